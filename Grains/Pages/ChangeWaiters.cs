namespace OrleansDsm.Grains.Pages;

/// <summary>
/// Callers of one page waiting for an element to stop holding a value. Each new committed image wakes those whose
/// element it changed; a free wakes all of them with its error. Used from its page grain's thread only.
/// </summary>
internal sealed class ChangeWaiters
{
    // Allocated on the first wait: most pages are never waited on.
    private List<Waiter>? _waiters;

    /// <summary>Completes true once <see cref="Committed"/> shows the element differing from <paramref name="expected"/>.</summary>
    public Task<bool> Add(int offset, int size, ulong expected)
    {
        var waiter = new Waiter(offset, size, expected, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
        (_waiters ??= []).Add(waiter);
        return waiter.Changed.Task;
    }

    /// <summary>Gives up on a wait that timed out.</summary>
    public void Remove(Task<bool> changed)
    {
        var index = _waiters?.FindIndex(waiter => waiter.Changed.Task == changed) ?? -1;
        if (index >= 0) _waiters!.RemoveAt(index);
    }

    /// <summary>Wakes the waiters whose element <paramref name="bytes"/> (the newly committed page) no longer holds their value.</summary>
    public void Committed(ReadOnlySpan<byte> bytes)
    {
        if (_waiters is not { Count: > 0 }) return;
        for (var i = _waiters.Count - 1; i >= 0; i--)
        {
            var waiter = _waiters[i];
            if (PageAtomics.Load(bytes.Slice(waiter.Offset, waiter.Size)) == waiter.Expected) continue;
            _waiters.RemoveAt(i);
            waiter.Changed.TrySetResult(true);
        }
    }

    /// <summary>Ends every wait as if it had timed out: their callers ask again, and so reach the page's next activation.</summary>
    public void EndAll()
    {
        if (_waiters is null) return;
        foreach (var waiter in _waiters) waiter.Changed.TrySetResult(false);
        _waiters.Clear();
    }

    /// <summary>Fails every waiter with <paramref name="error"/>.</summary>
    public void FailAll(Exception error)
    {
        if (_waiters is null) return;
        foreach (var waiter in _waiters) waiter.Changed.TrySetException(error);
        _waiters.Clear();
    }

    private readonly record struct Waiter(int Offset, int Size, ulong Expected, TaskCompletionSource<bool> Changed);
}
