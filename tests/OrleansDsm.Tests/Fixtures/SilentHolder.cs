using OrleansDsm.Caching;

namespace OrleansDsm.Tests.Fixtures;

/// <summary>A cache holder that never acknowledges a revocation, like a client that died.</summary>
internal sealed class SilentHolder : ICacheHolder
{
    private int _calls;

    /// <summary>The revocation calls it was sent.</summary>
    public int Calls => Volatile.Read(ref _calls);

    public Task<bool[]> Revoke(PageRevocation[] revocations)
    {
        Interlocked.Increment(ref _calls);
        return new TaskCompletionSource<bool[]>().Task;
    }
}
