using OrleansDsm.Caching;
using OrleansDsm.Metrics;

namespace OrleansDsm.Metrics;

/// <summary>Reports a client's cache counters to the cluster's <see cref="IMetricsGrain"/> at a fixed interval, until disposed.</summary>
internal sealed class MetricsReporter : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _reports;

    public MetricsReporter(IGrainFactory grains, PageCache cache, TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _reports = ReportAsync(grains.GetGrain<IMetricsGrain>(0), $"client {cache.Session}", cache.Metrics, interval, _stopping.Token);
    }

    private static async Task ReportAsync(IMetricsGrain sink, string source, CacheMetrics cache, TimeSpan interval, CancellationToken stopping)
    {
        using var ticks = new PeriodicTimer(interval);
        try
        {
            while (await ticks.WaitForNextTickAsync(stopping))
            {
                try
                {
                    var counters = new MetricsSample(CacheHits: cache.Hits, CacheMisses: cache.Misses, CacheEvictions: cache.Evictions,
                        InvalidationsReceived: cache.InvalidationsReceived);
                    await sink.Report(source, counters).WaitAsync(stopping);
                }
                catch (Exception) when (!stopping.IsCancellationRequested)
                {
                    // Metrics are best effort: a report lost while the cluster is unreachable is made up by the next one.
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _reports;
        _stopping.Dispose();
    }
}
