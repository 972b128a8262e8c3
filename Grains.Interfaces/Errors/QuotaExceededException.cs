namespace OrleansDsm.Errors;

/// <summary>An allocation would take the cluster's reserved address space past its quota.</summary>
[GenerateSerializer]
public sealed class QuotaExceededException : DsmException
{
    /// <summary>Creates the error with a message that names what was wrong.</summary>
    public QuotaExceededException(string message) : base(message) { }
}
