namespace OrleansDsm.Grains.Locks;

/// <summary>
/// The stored form of a lock: a ceiling on the tokens granted, whether the lock may be held (and by which hold, when a
/// deactivation left it held), and the longest lease a grant may have. Written a block of tokens at a time, not per
/// grant (see <see cref="LockGrain"/>).
/// </summary>
[GenerateSerializer]
internal sealed class LockState
{
    /// <summary>No token granted exceeds this; the next activation's first grant is larger.</summary>
    [Id(0)]
    public long Token { get; set; }

    /// <summary>
    /// <see cref="Guid.Empty"/> once a deactivation found the lock free; otherwise the holder of the grant that last
    /// wrote this, standing for "the lock may be held".
    /// </summary>
    [Id(1)]
    public Guid Holder { get; set; }

    /// <summary>The longest lease granted since the lock was last stored free: how long a new activation waits.</summary>
    [Id(2)]
    public TimeSpan Lease { get; set; }

    /// <summary>
    /// Nonzero only when a deactivation found the lock held and no grant came since: the token of that hold, whose
    /// holder is <see cref="Holder"/>. The next activation carries the hold on (its renewals, fenced writes and release
    /// count); its first grant clears this before it answers.
    /// </summary>
    [Id(3)]
    public long HeldToken { get; set; }

    /// <summary>The request that <see cref="HeldToken"/> granted, so that it sent again gets that hold, not a refusal.</summary>
    [Id(4)]
    public Guid HeldRequest { get; set; }
}
