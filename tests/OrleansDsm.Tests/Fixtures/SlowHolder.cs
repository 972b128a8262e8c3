using OrleansDsm.Caching;

namespace OrleansDsm.Tests.Fixtures;

/// <summary>
/// A cache holder that answers no revocation until it is opened, then answers that it dropped every copy it was asked
/// to, or that it kept each (<paramref name="keeps"/>): while it renews its lease, it holds up the page that revokes
/// it, and the writes that reach the page meanwhile. It records each call's revocations. Never opened, it is a holder
/// that died.
/// </summary>
internal sealed class SlowHolder(bool keeps = false) : ICacheHolder
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly System.Collections.Concurrent.ConcurrentQueue<PageRevocation[]> _received = new();
    private int _calls, _revocations;

    public int Calls => Volatile.Read(ref _calls);

    public int Revocations => Volatile.Read(ref _revocations);

    /// <summary>Each call's revocations, in the order the calls came.</summary>
    public IReadOnlyList<PageRevocation[]> Received => [.. _received];

    public void Open() => _open.TrySetResult();

    public async Task<bool[]> Revoke(PageRevocation[] revocations)
    {
        _received.Enqueue(revocations);
        Interlocked.Increment(ref _calls);
        Interlocked.Add(ref _revocations, revocations.Length);
        await _open.Task;
        return Enumerable.Repeat(keeps, revocations.Length).ToArray();
    }
}
