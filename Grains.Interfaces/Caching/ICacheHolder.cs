namespace OrleansDsm.Caching;

/// <summary>
/// A client session's cache, as page grains see it: they call it to revoke a cached copy before a write. The call
/// returns once the copy is dropped; a page never waits for it longer than the session's lease.
/// </summary>
public interface ICacheHolder : IGrainObserver
{
    /// <summary>Drops any cached copy of <paramref name="page"/> older than <paramref name="version"/>.</summary>
    Task Invalidate(long page, long version);
}
