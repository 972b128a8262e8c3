namespace OrleansDsm.Errors;

/// <summary>A page's stored record is damaged (truncated, or not matching its checksum); the page will not serve it.</summary>
[GenerateSerializer]
public sealed class CorruptPageException : DsmException
{
    /// <summary>Creates the error with a message that names the page and what was wrong.</summary>
    public CorruptPageException(string message) : base(message) { }
}
