namespace OrleansDsm.Grains.Persistence;

/// <summary>
/// Serializes the state writes of a reentrant grain and folds concurrent requests into one write. A caller's
/// <see cref="WriteAsync"/> completes only after a write that began after the call has completed, so every change
/// the caller made before calling is stored. Like the grain that owns it, it is used from one thread at a time.
/// </summary>
internal sealed class CoalescingWriter(Func<Task> write)
{
    private long _requested;
    private long _written;
    private readonly SingleFlight _inFlight = new();

    public async Task WriteAsync()
    {
        var mine = ++_requested;
        while (_written < mine) await _inFlight.JoinAsync(WriteOnceAsync);
    }

    private async Task WriteOnceAsync()
    {
        var covers = _requested;
        await write();
        _written = Math.Max(_written, covers);
    }
}
