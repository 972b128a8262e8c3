namespace OrleansDsm.Direct;

/// <summary>
/// A link's timing: how long opening a connection and awaiting a reply may take, how long a connection to a silo
/// other than the gateway's stays open with nothing on it (<see cref="Connection.DsmClientOptions.DirectIdleTimeout"/>),
/// and after how long with nothing on it a connection asks whether its silo is still there
/// (<see cref="Connection.DsmClientOptions.DirectKeepAlive"/>; zero: never).
/// </summary>
internal readonly record struct DirectTimeouts(TimeSpan Connect, TimeSpan Response, TimeSpan Idle, TimeSpan KeepAlive = default);
