namespace OrleansDsm.Caching;

/// <summary>
/// A client session's cache, as the silos see it: they call it to revoke cached copies before a write. The call
/// returns once the copies are dropped; a page never waits for it longer than the session's lease.
/// </summary>
public interface ICacheHolder : IGrainObserver
{
    /// <summary>
    /// Applies <paramref name="revocations"/> in order: every revocation a silo has waiting for this session when it
    /// sends, from whichever of its pages. Returns, for each, whether a copy of its version, or a newer one, is kept.
    /// </summary>
    Task<bool[]> Revoke([Immutable] PageRevocation[] revocations);
}
