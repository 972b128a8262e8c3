namespace OrleansDsm.Metrics;

/// <summary>
/// The cluster's DSM metrics: every reporting process's counters added up (processes that stopped reporting included,
/// at their last report), the rates derived from them, and the processes reporting now.
/// </summary>
/// <param name="Totals">The sum; its <see cref="MetricsSample.CacheHitRate"/> and means are the cluster's.</param>
/// <param name="CacheHitRate">Reads served from client caches, as a share of cached-region reads; null before any.</param>
/// <param name="MeanWriterStallMilliseconds">Mean wait of a write for cache holders; null before any.</param>
/// <param name="MeanStorageWriteMilliseconds">Mean time of a page's storage write; null before any.</param>
/// <param name="Sources">Processes that reported within the last minute, by name.</param>
[GenerateSerializer, Immutable]
public sealed record MetricsSummary(
    MetricsSample Totals,
    double? CacheHitRate,
    double? MeanWriterStallMilliseconds,
    double? MeanStorageWriteMilliseconds,
    IReadOnlyList<MetricsSource> Sources);
