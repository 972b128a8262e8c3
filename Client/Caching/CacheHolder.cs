namespace OrleansDsm.Caching;

/// <summary>
/// The object page grains call to revoke this client's copies. The cache keeps it alive (Orleans holds observers
/// weakly). Revocations that come over the direct channel are applied by the same method.
/// </summary>
internal sealed class CacheHolder(PageCache cache) : ICacheHolder
{
    public Task<bool[]> Revoke(PageRevocation[] revocations) => Task.FromResult(Apply(revocations));

    /// <summary>Applies a silo's revocations, whether they came as this observer's call or over the direct channel.</summary>
    public bool[] Apply(PageRevocation[] revocations)
    {
        ArgumentNullException.ThrowIfNull(revocations);
        cache.Metrics.RevocationCallReceived();
        return cache.Revoke(revocations);
    }
}
