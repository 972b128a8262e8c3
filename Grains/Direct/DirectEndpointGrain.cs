using OrleansDsm.Direct;

namespace OrleansDsm.Grains.Direct;

/// <summary>Answers with this silo's direct endpoint; a stateless worker, so the silo is the one the call reached.</summary>
[StatelessWorker]
internal sealed class DirectEndpointGrain(DirectListener listener) : Grain, IDirectEndpointGrain
{
    public Task<DirectEndpoint?> GetState() => Task.FromResult(listener.Endpoint);
}
