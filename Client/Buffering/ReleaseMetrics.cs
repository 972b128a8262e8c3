using System.Diagnostics.Metrics;

namespace OrleansDsm.Buffering;

/// <summary>
/// What releases cost, on the meter <c>OrleansDsm.Client</c> tagged with the client's session: pages released, calls
/// sent for them (one per page unless a call had to be sent again) and the bytes those calls carried.
/// </summary>
internal sealed class ReleaseMetrics : IDisposable
{
    private readonly Meter _meter = new(Caching.CacheMetrics.MeterName);
    private long _pages;
    private long _calls;
    private long _bytes;

    public ReleaseMetrics(Guid session)
    {
        var tag = new KeyValuePair<string, object?>(Caching.CacheMetrics.SessionTag, session.ToString());
        _meter.CreateObservableCounter("dsm.release.pages", () => new Measurement<long>(Pages, tag), description: "Dirty pages released");
        _meter.CreateObservableCounter("dsm.release.calls", () => new Measurement<long>(Calls, tag), description: "Page calls sent by releases");
        _meter.CreateObservableCounter("dsm.release.bytes", () => new Measurement<long>(Bytes, tag), unit: "By", description: "Changed bytes sent by releases");
    }

    public long Pages => Interlocked.Read(ref _pages);
    public long Calls => Interlocked.Read(ref _calls);
    public long Bytes => Interlocked.Read(ref _bytes);

    public void Released(int pages) => Interlocked.Add(ref _pages, pages);

    public void Sent(int bytes)
    {
        Interlocked.Increment(ref _calls);
        Interlocked.Add(ref _bytes, bytes);
    }

    public void Dispose() => _meter.Dispose();
}
