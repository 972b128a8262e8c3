using Orleans.Runtime.Diagnostics;

namespace OrleansDsm.Grains.Pages;

/// <summary>
/// Tells each page active on this silo when Orleans begins to deactivate it (<see cref="PageGrain.Leaving"/>). Orleans
/// runs a deactivation only once no call runs in the activation, so a caller waiting in the page for a change held a
/// page that the rebalancer, a migration or a graceful stop wanted gone for the rest of its wait, and every call sent
/// to the page meanwhile waited behind it. The grain learns of its deactivation only when it runs, so this listens to
/// Orleans' grain lifecycle events, which announce it as it starts.
/// </summary>
internal sealed class PageDeactivationWatch(ILocalSiloDetails silo) : ILifecycleParticipant<ISiloLifecycle>, IObserver<GrainLifecycleEvents.LifecycleEvent>
{
    private IDisposable? _subscription;

    public void Participate(ISiloLifecycle lifecycle) =>
        // Subscribed before any grain runs and kept until the last has gone (stages stop in descending order).
        lifecycle.Subscribe(nameof(PageDeactivationWatch), ServiceLifecycleStage.RuntimeInitialize, Start, Stop);

    private Task Start(CancellationToken cancellation)
    {
        _subscription = GrainLifecycleEvents.AllEvents.Subscribe(this);
        return Task.CompletedTask;
    }

    private Task Stop(CancellationToken cancellation)
    {
        _subscription?.Dispose();
        return Task.CompletedTask;
    }

    public void OnNext(GrainLifecycleEvents.LifecycleEvent value)
    {
        // Raised under the activation's own lock, and for every silo of this process: only queue the page's turn here.
        if (value is GrainLifecycleEvents.Deactivating { GrainContext: { GrainInstance: PageGrain page } context } && silo.SiloAddress.Equals(context.Address.SiloAddress))
            context.Scheduler.QueueAction(page.Leaving);
    }

    // Orleans' listener is static and never ends or fails, so these are never called.
    public void OnError(Exception error)
    {
    }

    public void OnCompleted()
    {
    }
}
