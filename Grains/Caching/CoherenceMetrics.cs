using System.Diagnostics.Metrics;

namespace OrleansDsm.Grains.Caching;

/// <summary>The silo's side of cache coherence, on the meter <c>OrleansDsm.Silo</c>.</summary>
internal static class CoherenceMetrics
{
    public const string MeterName = "OrleansDsm.Silo";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Revocations sent to cache holders before writes, frees and deactivations.</summary>
    public static readonly Counter<long> InvalidationsSent =
        Meter.CreateCounter<long>("dsm.page.invalidations_sent", description: "Cached copies revoked by pages");

    /// <summary>How long writes waited for holders to drop their copies, for writes that had holders.</summary>
    public static readonly Histogram<double> WriterStall =
        Meter.CreateHistogram<double>("dsm.page.writer_stall", unit: "ms", description: "Time a write waited for cache holders");
}
