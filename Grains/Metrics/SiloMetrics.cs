using System.Diagnostics.Metrics;
using OrleansDsm.Metrics;

namespace OrleansDsm.Grains.Metrics;

/// <summary>
/// One silo's DSM counters: published on the meter <c>OrleansDsm.Silo</c> for any listener or exporter, and added up
/// here for the silo's reports to <see cref="IMetricsGrain"/>. One per silo (a process hosting several silos, as tests
/// do, keeps them apart).
/// </summary>
internal sealed class SiloMetrics : IDisposable
{
    public const string MeterName = "OrleansDsm.Silo";

    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _invalidationsSent;
    private readonly Histogram<double> _writerStall;
    private readonly Histogram<double> _storageWrite;
    private readonly Counter<long> _revocationsUnanswered;
    // Plain fields under a lock (a storage write adds to three), read into a sample only when reported.
    private readonly Lock _gate = new();
    private long _invalidationsSentCount, _writerStalls, _storageWrites, _revocationsUnansweredCount;
    private double _writerStallMilliseconds, _storageWriteMilliseconds, _storageWriteMaxMilliseconds;

    public SiloMetrics()
    {
        _invalidationsSent = _meter.CreateCounter<long>("dsm.page.invalidations_sent", description: "Cached copies revoked by pages");
        _writerStall = _meter.CreateHistogram<double>("dsm.page.writer_stall", unit: "ms", description: "Time a write waited for cache holders");
        _storageWrite = _meter.CreateHistogram<double>("dsm.page.storage_write", unit: "ms", description: "Time a page's storage write took");
        _revocationsUnanswered = _meter.CreateCounter<long>("dsm.page.revocations_unanswered", description: "Revocations that got no answer within the holder's lease");
    }

    /// <summary>The counters so far.</summary>
    public MetricsSample Totals
    {
        get
        {
            lock (_gate)
                return new MetricsSample(InvalidationsSent: _invalidationsSentCount, WriterStalls: _writerStalls, WriterStallMilliseconds: _writerStallMilliseconds,
                    StorageWrites: _storageWrites, StorageWriteMilliseconds: _storageWriteMilliseconds, StorageWriteMaxMilliseconds: _storageWriteMaxMilliseconds,
                    RevocationsUnanswered: _revocationsUnansweredCount);
        }
    }

    /// <summary>A write revoked <paramref name="copies"/> cached copies and waited <paramref name="milliseconds"/> for them.</summary>
    public void WriterStalled(int copies, double milliseconds)
    {
        _invalidationsSent.Add(copies);
        _writerStall.Record(milliseconds);
        lock (_gate)
        {
            _invalidationsSentCount += copies;
            _writerStalls++;
            _writerStallMilliseconds += milliseconds;
        }
    }

    /// <summary>A revocation got no answer (or a failed call) within its holder's lease.</summary>
    public void RevocationUnanswered()
    {
        _revocationsUnanswered.Add(1);
        lock (_gate) _revocationsUnansweredCount++;
    }

    /// <summary>A page's record was written to storage in <paramref name="milliseconds"/>.</summary>
    public void StorageWritten(double milliseconds)
    {
        _storageWrite.Record(milliseconds);
        lock (_gate)
        {
            _storageWrites++;
            _storageWriteMilliseconds += milliseconds;
            _storageWriteMaxMilliseconds = Math.Max(_storageWriteMaxMilliseconds, milliseconds);
        }
    }

    public void Dispose() => _meter.Dispose();
}
