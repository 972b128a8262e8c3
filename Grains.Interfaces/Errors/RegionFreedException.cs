namespace OrleansDsm.Errors;

/// <summary>The region a handle refers to has been freed; the handle can no longer be used.</summary>
[GenerateSerializer]
public sealed class RegionFreedException : DsmException
{
    /// <summary>Creates the error with a message that names what was wrong.</summary>
    public RegionFreedException(string message) : base(message) { }
}
