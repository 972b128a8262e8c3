namespace OrleansDsm.Caching;

/// <summary>
/// A client session's cache, as page grains see it: they call it to revoke a cached copy before a write. The call
/// returns once the copy is dropped; a page never waits for it longer than the session's lease.
/// </summary>
public interface ICacheHolder : IGrainObserver
{
    /// <summary>Drops any cached copy of <paramref name="page"/> older than <paramref name="version"/>.</summary>
    Task Invalidate(long page, long version);

    /// <summary>
    /// Version <paramref name="version"/> of <paramref name="page"/> differs from the version before it only in bytes
    /// [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>), which it sets to
    /// <paramref name="bytes"/> when they are sent (small changes). A copy of the version before may stay as a copy of
    /// this version that serves every byte but those; any other copy older than this version is dropped. The bytes sent
    /// may be served from the next revocation of the page on: the page sends it only once every copy of the versions
    /// before it is gone or answered for. Returns whether a copy of this version, or a newer one, is kept.
    /// </summary>
    Task<bool> InvalidateRange(long page, long version, int offset, int length, [Immutable] byte[]? bytes);
}
