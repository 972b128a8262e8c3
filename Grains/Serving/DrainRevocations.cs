using Microsoft.Extensions.Logging;
using OrleansDsm.Grains.Pages;
using OrleansDsm.Pages;

namespace OrleansDsm.Grains.Serving;

/// <summary>
/// A graceful stop's first step: every page active here that clients cache revokes their copies while those clients
/// can still answer. Orleans then tells clients to stop sending to this silo, and only after that deactivates the
/// pages; a revocation left to the deactivation gets no answer (a client's answer is a message it no longer sends
/// here) and waits out the holder's lease, which made a drain take a whole cache lease.
/// </summary>
internal sealed partial class DrainRevocations(LocalPages local, IGrainFactory grains, ILogger<DrainRevocations> log)
    : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        // Stages stop in descending order: one above Active stops before Orleans' own Active stop sends clients away.
        lifecycle.Subscribe(nameof(DrainRevocations), ServiceLifecycleStage.Active + 1, _ => Task.CompletedTask, RevokeAsync);

    private async Task RevokeAsync(CancellationToken cancellation)
    {
        // A cancelled token means an ungraceful stop: no time for this, and the pages' next activations wait out leases.
        if (cancellation.IsCancellationRequested) return;
        var pages = local.Cached();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        // A failure, or the stop's time running out, goes to Orleans, which logs it and goes on stopping: the
        // deactivations that follow revoke what is left, waiting out leases where they must.
        await Task.WhenAll(pages.Select(page => grains.GetGrain<IPageGrain>(page).RevokeCopiesOlderThan(long.MaxValue))).WaitAsync(cancellation);
        LogRevoked(pages.Count, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    [LoggerMessage(LogLevel.Information, "Stopping: {Pages} cached pages revoked their copies in {Milliseconds:0} ms")]
    private partial void LogRevoked(int pages, double milliseconds);
}
