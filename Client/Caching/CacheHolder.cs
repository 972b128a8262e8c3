namespace OrleansDsm.Caching;

/// <summary>The object page grains call to revoke this client's copies. The cache keeps it alive (Orleans holds observers weakly).</summary>
internal sealed class CacheHolder(PageCache cache) : ICacheHolder
{
    public Task<bool[]> Revoke(PageRevocation[] revocations)
    {
        ArgumentNullException.ThrowIfNull(revocations);
        cache.Metrics.RevocationCallReceived();
        var kept = new bool[revocations.Length];
        for (var i = 0; i < revocations.Length; i++)
        {
            var (page, version, offset, length, bytes) = revocations[i];
            kept[i] = cache.Revoke(page, version, length == 0 ? null : (offset, length), bytes);
        }
        return Task.FromResult(kept);
    }
}
