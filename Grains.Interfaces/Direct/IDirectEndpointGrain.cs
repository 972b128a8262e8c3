namespace OrleansDsm.Direct;

/// <summary>
/// Tells a client where the silo its call reached takes direct connections (see <see cref="DirectWire"/>). A stateless
/// worker, so a client's call is answered by the gateway silo it went through.
/// </summary>
public interface IDirectEndpointGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// The silo's direct endpoint, or null when it takes none (turned off). Named, and read-only,
    /// as every parameterless grain method here is, since the dashboard calls such methods to show a grain.
    /// </summary>
    [ReadOnly]
    Task<DirectEndpoint?> GetState();
}

/// <summary>
/// An address and port where a silo takes direct connections, and whether they are TLS (a silo with TLS takes no other).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record DirectEndpoint([property: Id(0)] string Address, [property: Id(1)] int Port, [property: Id(2)] bool Tls = false);
