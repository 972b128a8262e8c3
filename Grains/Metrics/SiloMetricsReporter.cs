using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OrleansDsm.Grains.Hosting;
using OrleansDsm.Metrics;

namespace OrleansDsm.Grains.Metrics;

/// <summary>Reports this silo's counters to the cluster's <see cref="IMetricsGrain"/> every <see cref="AddressSpaceOptions.MetricsInterval"/>.</summary>
internal sealed class SiloMetricsReporter(IGrainFactory grains, ILocalSiloDetails local, SiloMetrics metrics, IOptions<AddressSpaceOptions> options)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        var source = $"silo {local.SiloAddress}";
        using var ticks = new PeriodicTimer(options.Value.MetricsInterval);
        try
        {
            while (await ticks.WaitForNextTickAsync(stopping))
            {
                try
                {
                    await grains.GetGrain<IMetricsGrain>(0).Report(source, metrics.Totals).WaitAsync(stopping);
                }
                catch (Exception) when (!stopping.IsCancellationRequested)
                {
                    // Metrics are best effort: a silo still starting, or a metrics grain moving, misses one report.
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }
}
