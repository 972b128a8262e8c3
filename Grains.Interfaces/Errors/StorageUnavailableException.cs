namespace OrleansDsm.Errors;

/// <summary>
/// The database behind the pages failed a read or write for a reason that may pass (unreachable, out of
/// connections, failing over). Clients retry it within their retry budget; a write's outcome is unknown, and its
/// retry carries the same request id, so it is applied at most once.
/// </summary>
[GenerateSerializer]
public sealed class StorageUnavailableException : DsmException
{
    /// <summary>Creates the error with a message that names the page and what the database said.</summary>
    public StorageUnavailableException(string message) : base(message) { }
}
