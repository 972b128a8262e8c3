using Orleans.Placement;
using OrleansDsm.Metrics;

namespace OrleansDsm.Grains.Metrics;

/// <summary>
/// Adds up the counters every silo and client reports. A process's reports are cumulative, so each replaces its
/// last; a process silent for <see cref="LiveFor"/> leaves the list of sources (at the next report from anyone), its
/// last counters kept in the totals.
/// </summary>
// Stays where it started when pages are rebalanced: its totals live in memory, and a move would drop them.
[Immovable]
internal sealed class MetricsGrain : Grain, IMetricsGrain
{
    /// <summary>How long a process that stopped reporting is still listed among the sources.</summary>
    public static readonly TimeSpan LiveFor = TimeSpan.FromMinutes(1);

    private const int LongestSourceName = 200;

    private readonly Dictionary<string, MetricsSource> _sources = new(StringComparer.Ordinal);
    private MetricsSample _departed = new();

    public Task Report(string source, MetricsSample counters)
    {
        ArgumentNullException.ThrowIfNull(counters);
        if (string.IsNullOrWhiteSpace(source) || source.Length > LongestSourceName)
            throw new ArgumentException($"A metrics source is named by 1 to {LongestSourceName} characters; '{source}' is not.", nameof(source));
        if (counters is { CacheHits: < 0 } or { CacheMisses: < 0 } or { CacheEvictions: < 0 } or { InvalidationsReceived: < 0 }
            or { InvalidationsSent: < 0 } or { WriterStalls: < 0 } or { WriterStallMilliseconds: < 0 } or { StorageWrites: < 0 }
            or { StorageWriteMilliseconds: < 0 } or { StorageWriteMaxMilliseconds: < 0 } or { RevocationsUnanswered: < 0 }
            or { DirectRequestsServed: < 0 } or { DirectConnectionsRefused: < 0 } or { StorageWriteFailures: < 0 })
            throw new ArgumentException($"Metrics from '{source}' hold a negative counter; counters only grow from zero.", nameof(counters));
        var now = DateTime.UtcNow;
        _sources[source] = new MetricsSource(source, now, counters);
        foreach (var silent in _sources.Values.Where(known => now - known.ReportedAt > LiveFor).ToList())
        {
            _departed = _departed.Plus(silent.Counters);
            _sources.Remove(silent.Name);
        }
        return Task.CompletedTask;
    }

    public Task<MetricsSummary> GetState()
    {
        var now = DateTime.UtcNow;
        var totals = _sources.Values.Aggregate(_departed, (sum, source) => sum.Plus(source.Counters));
        var live = _sources.Values.Where(source => now - source.ReportedAt <= LiveFor).OrderBy(source => source.Name, StringComparer.Ordinal).ToList();
        return Task.FromResult(new MetricsSummary(totals, totals.CacheHitRate, totals.MeanWriterStallMilliseconds, totals.MeanStorageWriteMilliseconds, live));
    }
}
