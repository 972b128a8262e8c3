namespace OrleansDsm.Errors;

/// <summary>A region exists under the name but its element type or length differs from what was asked.</summary>
[GenerateSerializer]
public sealed class RegionMismatchException : DsmException
{
    /// <summary>Creates the error with a message that names what was wrong.</summary>
    public RegionMismatchException(string message) : base(message) { }
}
