namespace OrleansDsm.Caching;

/// <summary>The object page grains call to revoke this client's copies. The cache keeps it alive (Orleans holds observers weakly).</summary>
internal sealed class CacheHolder(PageCache cache) : ICacheHolder
{
    public Task<bool[]> Revoke(PageRevocation[] revocations)
    {
        ArgumentNullException.ThrowIfNull(revocations);
        cache.Metrics.RevocationCallReceived();
        return Task.FromResult(cache.Revoke(revocations));
    }
}
