using Microsoft.Extensions.Options;
using OrleansDsm.Grains.Hosting;

namespace OrleansDsm.Grains.Serving;

/// <summary>
/// Whether this silo's memory is too full to take new pages (<see cref="AddressSpaceOptions.MemoryRefusalPercent"/>).
/// Memory is measured as Orleans' activation shedding measures it: what the GC has committed, less fragmentation, out
/// of what the GC may use (the machine's memory, or the container's or <c>DOTNET_GCHeapHardLimit</c>'s limit).
/// </summary>
internal sealed class MemoryPressure(IOptions<AddressSpaceOptions> options)
{
    // The GC's figures are as of its last collection; between collections they are read at most this often.
    private static readonly long ReadingLifetime = TimeSpan.FromMilliseconds(100).Ticks * System.Diagnostics.Stopwatch.Frequency / TimeSpan.TicksPerSecond;
    private static readonly TimeSpan CollectionSpacing = TimeSpan.FromSeconds(1);

    private readonly double _refusalPercent = options.Value.MemoryRefusalPercent;
    private readonly Lock _gate = new();
    private (long ReadAt, double Percent, long Used, long Limit) _reading;
    private long _collectedAt;

    /// <summary>Why a new page is refused now, or null when memory allows it.</summary>
    public string? RefusalReason()
    {
        var (_, percent, used, limit) = Read();
        if (percent <= _refusalPercent) return null;
        // Memory freed since the last collection (a region freed, pages shed) counts only once collected: before
        // refusing, collect once, at most once a second, and look again.
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        if (System.Diagnostics.Stopwatch.GetElapsedTime(Interlocked.Read(ref _collectedAt), now) >= CollectionSpacing)
        {
            Interlocked.Exchange(ref _collectedAt, now);
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            (_, percent, used, limit) = Read(force: true);
            if (percent <= _refusalPercent) return null;
        }
        return $"The silo's memory is {percent:0.#}% full ({used >> 20} of {limit >> 20} MiB), over its limit of {_refusalPercent:0.#}% (Dsm:MemoryRefusalPercent) for new pages";
    }

    private (long ReadAt, double Percent, long Used, long Limit) Read(bool force = false)
    {
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        lock (_gate)
        {
            if (!force && _reading.ReadAt != 0 && now - _reading.ReadAt < ReadingLifetime) return _reading;
            var info = GC.GetGCMemoryInfo();
            var limit = Math.Max(1, info.TotalAvailableMemoryBytes);
            var used = Math.Clamp(info.TotalCommittedBytes - info.FragmentedBytes, 0, limit);
            return _reading = (now, 100.0 * used / limit, used, limit);
        }
    }
}
