namespace OrleansDsm.Errors;

/// <summary>The caller lacks the credential the operation needs: a free without the region's owner token or the cluster's admin token.</summary>
[GenerateSerializer]
public sealed class AccessDeniedException : DsmException
{
    /// <summary>Creates the error with a message that names what was wrong.</summary>
    public AccessDeniedException(string message) : base(message) { }
}
