namespace OrleansDsm.Errors;

/// <summary>
/// A barrier generation broke: a party waited its whole timeout without every party arriving (one died, or is late).
/// Every party of that generation gets this error, and the next call of each starts the next generation.
/// </summary>
[GenerateSerializer]
public sealed class BarrierTimeoutException : DsmException
{
    /// <summary>Creates the error with a message that names the barrier, the generation and how many parties came.</summary>
    public BarrierTimeoutException(string message) : base(message) { }

    /// <summary>The generation that broke; the party's next arrival is at the one after it.</summary>
    [Id(0)]
    public long Generation { get; init; }
}
