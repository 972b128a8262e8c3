using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using OrleansDsm.Metrics;

namespace OrleansDsm.Grains.Metrics;

/// <summary>
/// One silo's DSM counters: published on the meter <c>OrleansDsm.Silo</c> for any listener or exporter, and added up
/// here for the silo's reports to <see cref="IMetricsGrain"/>. One per silo (a process hosting several silos, as tests
/// do, keeps them apart).
/// </summary>
internal sealed partial class SiloMetrics : IDisposable
{
    public const string MeterName = "OrleansDsm.Silo";

    /// <summary>
    /// At most one warning about failed storage writes in this time: storage that is down fails every page's write,
    /// and with write-behind every page tries again each interval, so a line per failure would bury the log.
    /// </summary>
    public static readonly TimeSpan StorageFailureWarningInterval = TimeSpan.FromSeconds(10);

    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _invalidationsSent;
    private readonly Histogram<double> _writerStall;
    private readonly Histogram<double> _storageWrite;
    private readonly Counter<long> _revocationsUnanswered;
    private readonly Counter<long> _directRequestsServed;
    private readonly Counter<long> _directConnectionsRefused;
    private readonly Counter<long> _storageWriteFailed;
    // Plain fields under a lock (a storage write adds to three), read into a sample only when reported.
    private readonly Lock _gate = new();
    private long _invalidationsSentCount, _writerStalls, _storageWrites, _revocationsUnansweredCount;
    private double _writerStallMilliseconds, _storageWriteMilliseconds, _storageWriteMaxMilliseconds;
    // Counted without the lock: every request of the direct channel adds to it, from the threads of many connections.
    private long _directRequestsServedCount;
    private long _directConnectionsRefusedCount;
    // Failures since the silo started, those the last warning covered, and when it was logged (TickCount64; 0: never).
    private long _storageWriteFailures, _storageWriteFailuresWarned, _storageFailureWarnedAt;
    private readonly ILogger<SiloMetrics> _log;

    public SiloMetrics(ILogger<SiloMetrics> log)
    {
        _log = log;
        _invalidationsSent = _meter.CreateCounter<long>("dsm.page.invalidations_sent", description: "Cached copies revoked by pages");
        _writerStall = _meter.CreateHistogram<double>("dsm.page.writer_stall", unit: "ms", description: "Time a write waited for cache holders");
        _storageWrite = _meter.CreateHistogram<double>("dsm.page.storage_write", unit: "ms", description: "Time a page's storage write took");
        _revocationsUnanswered = _meter.CreateCounter<long>("dsm.page.revocations_unanswered", description: "Revocations that got no answer within the holder's lease");
        _directRequestsServed = _meter.CreateCounter<long>("dsm.direct.requests_served", description: "Requests the silo's direct channel answered itself (tag dsm.operation)");
        _directConnectionsRefused = _meter.CreateCounter<long>("dsm.direct.connections_refused",
            description: "Connections to the silo's direct channel closed before serving anything (tag dsm.reason: tls or hello)");
        _storageWriteFailed = _meter.CreateCounter<long>("dsm.page.storage_write_failures", description: "Page records storage refused or failed to write");
    }

    /// <summary>The counters so far.</summary>
    public MetricsSample Totals
    {
        get
        {
            lock (_gate)
                return new MetricsSample(InvalidationsSent: _invalidationsSentCount, WriterStalls: _writerStalls, WriterStallMilliseconds: _writerStallMilliseconds,
                    StorageWrites: _storageWrites, StorageWriteMilliseconds: _storageWriteMilliseconds, StorageWriteMaxMilliseconds: _storageWriteMaxMilliseconds,
                    RevocationsUnanswered: _revocationsUnansweredCount, DirectRequestsServed: Interlocked.Read(ref _directRequestsServedCount),
                    DirectConnectionsRefused: Interlocked.Read(ref _directConnectionsRefusedCount),
                    StorageWriteFailures: Interlocked.Read(ref _storageWriteFailures));
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

    /// <summary>The direct channel answered a request of kind <paramref name="operation"/> itself (not refused, not failed).</summary>
    public void DirectRequestServed(string operation)
    {
        _directRequestsServed.Add(1, new KeyValuePair<string, object?>("dsm.operation", operation));
        Interlocked.Increment(ref _directRequestsServedCount);
    }

    /// <summary>
    /// The direct channel closed a connection before serving it, for <paramref name="reason"/>: <c>tls</c> (its
    /// handshake failed: no certificate, or one the silo does not admit, or no TLS at all) or <c>hello</c> (no valid
    /// hello in time: not our client, or another wire version).
    /// </summary>
    public void DirectConnectionRefused(string reason)
    {
        _directConnectionsRefused.Add(1, new KeyValuePair<string, object?>("dsm.reason", reason));
        Interlocked.Increment(ref _directConnectionsRefusedCount);
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

    /// <summary>
    /// A page's record could not be written. Logged as a warning at most once per
    /// <see cref="StorageFailureWarningInterval"/>, with how many failed since the last one and the newest reason.
    /// </summary>
    public void StorageWriteFailed(Exception error)
    {
        _storageWriteFailed.Add(1);
        var failures = Interlocked.Increment(ref _storageWriteFailures);
        var now = Environment.TickCount64;
        var warnedAt = Interlocked.Read(ref _storageFailureWarnedAt);
        if (warnedAt != 0 && now - warnedAt < (long)StorageFailureWarningInterval.TotalMilliseconds) return;
        // One thread of those that fail at once logs.
        if (Interlocked.CompareExchange(ref _storageFailureWarnedAt, now, warnedAt) != warnedAt) return;
        var since = failures - Interlocked.Exchange(ref _storageWriteFailuresWarned, failures);
        LogStorageFailures(since, error.Message);
    }

    [LoggerMessage(LogLevel.Warning, "Page storage writes are failing: {Failures} failed since the last such warning (write-through: their callers got the error; " +
        "write-behind: pages keep the writes and try again, and writes wait for storage once the oldest unstored one is two intervals old). The newest: {Reason}")]
    private partial void LogStorageFailures(long failures, string reason);

    public void Dispose() => _meter.Dispose();
}
