namespace OrleansDsm.Locks;

/// <summary>
/// One named lock, keyed by its name. A hold is leased: it ends when its holder releases it or stops renewing it.
/// Each grant carries a fencing token larger than any before it; storage keeps a ceiling on them, so a restarted lock never reuses one.
/// </summary>
public interface ILockGrain : IGrainWithStringKey
{
    /// <summary>
    /// Grants the lock to <paramref name="holder"/> for <paramref name="lease"/> if it is free or becomes free within
    /// <paramref name="wait"/> (at most 10 s); null otherwise. A request sent again under the same
    /// <paramref name="request"/> id gets the grant its first attempt got while that hold lasts, and null once it has
    /// ended: a request is granted at most once.
    /// </summary>
    [AlwaysInterleave]
    Task<LockGrant?> TryAcquire(Guid holder, Guid request, TimeSpan lease, TimeSpan wait);

    /// <summary>Extends the hold named by <paramref name="token"/> by its lease; false if that hold has ended.</summary>
    [AlwaysInterleave]
    Task<bool> Renew(Guid holder, long token);

    /// <summary>
    /// Ends the hold named by <paramref name="token"/>, if it is still the current one. One-way: the caller does not
    /// wait for it, and if it is lost the lease frees the lock.
    /// </summary>
    [AlwaysInterleave, OneWay]
    Task Release(Guid holder, long token);

    /// <summary>How long the hold named by <paramref name="token"/> still runs: zero unless it is the current, unexpired one.</summary>
    [AlwaysInterleave]
    Task<TimeSpan> Validate(long token);
}
