using Microsoft.Extensions.Logging;

namespace OrleansDsm.Grains.Pages;

/// <summary>
/// Acknowledged writes a stopping silo could not store. With write-behind
/// (<see cref="Hosting.AddressSpaceOptions.WriteBehind"/>) a page stores what it holds as it deactivates; if storage
/// refuses, or the stop is cut short before the page deactivates, those writes are lost, as a crash would lose them.
/// Each refusal is logged as it happens; the silo program reports the count when it stops, since a graceful stop is
/// where an operator expects to lose nothing. Write-through stores every write before acknowledging it, so it loses none:
/// there a page's unstored changes are writes whose callers have not been answered, and nothing here counts them.
/// </summary>
public sealed partial class UnstoredWriteLosses
{
    private readonly LocalPages _local;
    private readonly ILogger<UnstoredWriteLosses> _log;
    private readonly bool _writeBehind;
    private long _refused, _storing;
    private volatile string? _lastRefusal;

    internal UnstoredWriteLosses(LocalPages local, Microsoft.Extensions.Options.IOptions<Hosting.AddressSpaceOptions> options, ILogger<UnstoredWriteLosses> log) =>
        (_local, _writeBehind, _log) = (local, options.Value.WriteBehind > TimeSpan.Zero, log);

    /// <summary>
    /// Pages whose acknowledged writes storage does not hold: those it refused as they deactivated, those still storing
    /// them (a stop cut short leaves them so), and those still active with unstored writes. Meaningful once the silo
    /// has stopped; while it runs, write-behind's pending stores count too.
    /// </summary>
    public long Pages => _writeBehind ? Interlocked.Read(ref _refused) + Interlocked.Read(ref _storing) + _local.HoldingUnstoredWrites() : 0;

    /// <summary>Why storage refused the last page it refused; null while none.</summary>
    public string? LastRefusal => _lastRefusal;

    /// <summary>A deactivating page, no longer listed as active, began storing its unstored writes.</summary>
    internal void Storing() => Interlocked.Increment(ref _storing);

    /// <summary>The page that began storing has stored them.</summary>
    internal void Stored() => Interlocked.Decrement(ref _storing);

    /// <summary>Storage refused the writes the page began storing: they are lost.</summary>
    internal void Refused(long page, Exception error)
    {
        Interlocked.Decrement(ref _storing);
        if (!_writeBehind) return;
        Interlocked.Increment(ref _refused);
        _lastRefusal = error.Message;
        LogRefusal(_log, page, error.Message);
    }

    [LoggerMessage(LogLevel.Error, "Page {Page} deactivated with acknowledged writes that storage refused to take; they are lost: {Reason}")]
    private static partial void LogRefusal(ILogger log, long page, string reason);
}
