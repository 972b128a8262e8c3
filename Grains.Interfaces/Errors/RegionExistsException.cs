namespace OrleansDsm.Errors;

/// <summary>A region of the requested name already exists.</summary>
[GenerateSerializer]
public sealed class RegionExistsException : DsmException
{
    /// <summary>Creates the error with a message that names what was wrong.</summary>
    public RegionExistsException(string message) : base(message) { }
}
