namespace OrleansDsm.Errors;

/// <summary>No live region matches the request (name or address).</summary>
[GenerateSerializer]
public sealed class RegionNotFoundException : DsmException
{
    /// <summary>Creates the error with a message that names what was wrong.</summary>
    public RegionNotFoundException(string message) : base(message) { }
}
