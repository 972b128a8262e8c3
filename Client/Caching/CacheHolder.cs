namespace OrleansDsm.Caching;

/// <summary>The object page grains call to revoke this client's copies. The cache keeps it alive (Orleans holds observers weakly).</summary>
internal sealed class CacheHolder(PageCache cache) : ICacheHolder
{
    public Task Invalidate(long page, long version)
    {
        cache.Revoke(page, version);
        return Task.CompletedTask;
    }

    public Task<bool> InvalidateRange(long page, long version, int offset, int length, byte[]? bytes) =>
        Task.FromResult(cache.Revoke(page, version, (offset, length), bytes));
}
