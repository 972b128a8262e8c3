namespace OrleansDsm.Errors;

/// <summary>The base of every error the shared memory reports about its own state.</summary>
[GenerateSerializer]
public class DsmException : Exception
{
    /// <summary>Creates the error with its message.</summary>
    public DsmException(string message) : base(message) { }
}
