namespace OrleansDsm.Errors;

/// <summary>A silo or client is configured with a page size other than the cluster's.</summary>
[GenerateSerializer]
public sealed class PageSizeMismatchException : DsmException
{
    /// <summary>Creates the error with a message that names what was wrong.</summary>
    public PageSizeMismatchException(string message) : base(message) { }
}
