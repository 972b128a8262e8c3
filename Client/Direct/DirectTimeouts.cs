namespace OrleansDsm.Direct;

/// <summary>
/// A link's timing: how long opening a connection and awaiting a reply may take, and how long a connection to a silo
/// other than the gateway's stays open with nothing on it (<see cref="Connection.DsmClientOptions.DirectIdleTimeout"/>).
/// </summary>
internal readonly record struct DirectTimeouts(TimeSpan Connect, TimeSpan Response, TimeSpan Idle);
