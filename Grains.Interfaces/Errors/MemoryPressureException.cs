namespace OrleansDsm.Errors;

/// <summary>
/// A silo under memory pressure refused a write that would have made it keep a page it does not yet keep. Nothing
/// changed. Reads, writes to pages already written and frees go on; free regions or add silos, then try again.
/// </summary>
[GenerateSerializer]
public sealed class MemoryPressureException : DsmException
{
    /// <summary>Creates the error with a message that names the silo's memory use and its limit.</summary>
    public MemoryPressureException(string message) : base(message) { }
}
