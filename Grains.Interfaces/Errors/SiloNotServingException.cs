namespace OrleansDsm.Errors;

/// <summary>
/// The silo hosting the page holds no serving lease: it could not confirm in the membership table, within its lease,
/// that the cluster still counts it as a member (cut off from PostgreSQL, or declared dead). Its copy of the page may
/// be stale, so it answers nothing from it. Clients retry it within their retry budget, and reach the page on another
/// silo once the cluster has moved it.
/// </summary>
[GenerateSerializer]
public sealed class SiloNotServingException : DsmException
{
    /// <summary>Creates the error with a message that names the silo and the page.</summary>
    public SiloNotServingException(string message) : base(message) { }
}
