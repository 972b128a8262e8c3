namespace OrleansDsm.Metrics;

/// <summary>
/// One process's DSM counters since it started, as it reports them to <see cref="IMetricsGrain"/>. A client fills the
/// cache counters, a silo the page counters; the rest stay zero.
/// </summary>
/// <param name="CacheHits">Reads a client served from its page cache.</param>
/// <param name="CacheMisses">Reads a client had to fetch a page for.</param>
/// <param name="CacheEvictions">Pages a client evicted to keep to its cache budget.</param>
/// <param name="InvalidationsReceived">Revocations a client's cache received from pages.</param>
/// <param name="InvalidationsSent">Cached copies a silo's pages revoked before writes, frees and deactivations.</param>
/// <param name="WriterStalls">Writes on a silo that had to wait for cache holders.</param>
/// <param name="WriterStallMilliseconds">How long those writes waited, in all.</param>
/// <param name="StorageWrites">Page records a silo wrote to storage.</param>
/// <param name="StorageWriteMilliseconds">How long those writes took, in all.</param>
/// <param name="StorageWriteMaxMilliseconds">The longest of them.</param>
/// <param name="StorageWriteFailures">Page records a silo's storage refused or failed to write (each write-behind retry
/// counts): with write-through the write's caller got the error; with write-behind the page keeps the writes and tries
/// again.</param>
/// <param name="RevocationsUnanswered">Revocations a silo's pages sent that got no answer within the holder's lease, so
/// the write waited the lease out: a sign of a client that is gone, cut off or too busy to answer.</param>
/// <param name="DirectRequestsServed">Gets, sets, atomics and fills a silo's direct channel answered itself, rather than
/// its clients making Orleans calls.</param>
/// <param name="DirectConnectionsRefused">Connections a silo's direct channel closed before serving anything: a failed TLS
/// handshake (a client without the certificate the silo asks for, or without TLS), or no valid hello (not our client, or
/// another wire version). Such clients make Orleans calls instead, more slowly.</param>
[GenerateSerializer, Immutable]
public sealed record MetricsSample(
    long CacheHits = 0,
    long CacheMisses = 0,
    long CacheEvictions = 0,
    long InvalidationsReceived = 0,
    long InvalidationsSent = 0,
    long WriterStalls = 0,
    double WriterStallMilliseconds = 0,
    long StorageWrites = 0,
    double StorageWriteMilliseconds = 0,
    double StorageWriteMaxMilliseconds = 0,
    long RevocationsUnanswered = 0,
    long DirectRequestsServed = 0,
    long DirectConnectionsRefused = 0,
    long StorageWriteFailures = 0)
{
    /// <summary>Both samples' counters added, and the larger maximum.</summary>
    public MetricsSample Plus(MetricsSample other) => new(
        CacheHits + other.CacheHits,
        CacheMisses + other.CacheMisses,
        CacheEvictions + other.CacheEvictions,
        InvalidationsReceived + other.InvalidationsReceived,
        InvalidationsSent + other.InvalidationsSent,
        WriterStalls + other.WriterStalls,
        WriterStallMilliseconds + other.WriterStallMilliseconds,
        StorageWrites + other.StorageWrites,
        StorageWriteMilliseconds + other.StorageWriteMilliseconds,
        Math.Max(StorageWriteMaxMilliseconds, other.StorageWriteMaxMilliseconds),
        RevocationsUnanswered + other.RevocationsUnanswered,
        DirectRequestsServed + other.DirectRequestsServed,
        DirectConnectionsRefused + other.DirectConnectionsRefused,
        StorageWriteFailures + other.StorageWriteFailures);

    /// <summary>The share of cached-region reads served from a cache, or null before any.</summary>
    public double? CacheHitRate => CacheHits + CacheMisses is var reads and > 0 ? (double)CacheHits / reads : null;

    /// <summary>The mean wait of a write for cache holders, in milliseconds, or null before any.</summary>
    public double? MeanWriterStallMilliseconds => WriterStalls > 0 ? WriterStallMilliseconds / WriterStalls : null;

    /// <summary>The mean time of a page's storage write, in milliseconds, or null before any.</summary>
    public double? MeanStorageWriteMilliseconds => StorageWrites > 0 ? StorageWriteMilliseconds / StorageWrites : null;
}
