using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using OrleansDsm.Caching;
using OrleansDsm.Grains.Hosting;
using OrleansDsm.Grains.Serving;

namespace OrleansDsm.Grains.Caching;

/// <summary>
/// The cache sessions this silo has granted leases to, and until when, on this silo's monotonic clock. A lease is
/// renewed by a fill or a renewal arriving here; it covers every page of this silo that the session caches, so a
/// client renews once per silo, not once per page. The client counts its lease from when it sent the request, which
/// is never later than when it arrived here, so the client always stops trusting a copy before this silo would.
/// A request that finds the lease ended, or its term ended by a page (<see cref="EndTerm"/>), starts a new term (see
/// <see cref="LeaseGrant.Term"/>). Terms are numbered by this silo's monotonic clock, so they keep rising for a
/// session that was forgotten: sessions whose leases ended long ago are swept out, about once every ten leases.
/// </summary>
internal sealed class SessionLeaseTable(IOptions<AddressSpaceOptions> options, ILocalSiloDetails silo, ServingLease serving)
{
    private readonly ConcurrentDictionary<Guid, SessionLease> _leases = new();
    private long _sweptAt = Environment.TickCount64;

    /// <summary>This silo's name as grants report it; one string shared by every page.</summary>
    public string Silo { get; } = silo.SiloAddress.ToParsableString();

    public int LeaseMilliseconds { get; } = (int)options.Value.CacheLease.TotalMilliseconds;

    /// <summary>
    /// Renews the session's lease here and says for how long the client may count it: the cache lease, cut to what is
    /// left of this silo's serving lease. A fill names the session's cache <paramref name="holder"/>, which the table
    /// keeps for fills that come without one (over the direct channel: see <see cref="HolderOf"/>).
    /// </summary>
    public LeaseGrant Renew(Guid session, ICacheHolder? holder = null)
    {
        var now = Environment.TickCount64;
        var lease = _leases.AddOrUpdate(session,
            static (_, arrival) => new SessionLease(arrival.Now + arrival.Length, arrival.Now, Ended: false, arrival.Holder),
            static (_, current, arrival) => current.Expiry > arrival.Now && !current.Ended
                ? current with { Expiry = Math.Max(current.Expiry, arrival.Now + arrival.Length), Holder = arrival.Holder ?? current.Holder }
                : new SessionLease(arrival.Now + arrival.Length, Math.Max(current.Term + 1, arrival.Now), Ended: false, arrival.Holder ?? current.Holder),
            (Now: now, Length: (long)LeaseMilliseconds, Holder: holder));
        SweepIfDue(now);
        // No copy may outlive this silo's right to serve it: a silo that stops serving stops renewing too.
        var left = serving.Remaining;
        var granted = left >= TimeSpan.FromMilliseconds(LeaseMilliseconds) ? LeaseMilliseconds : (int)left.TotalMilliseconds;
        return new LeaseGrant(Silo, lease.Term, granted);
    }

    /// <summary>
    /// The cache holder a fill named for <paramref name="session"/> here, if the table still remembers the session: the
    /// reference a page records with a fill that came without one, to call when the session's revocations cannot go
    /// over its direct connection. A session has one holder for its life.
    /// </summary>
    public ICacheHolder? HolderOf(Guid session) => _leases.TryGetValue(session, out var lease) ? lease.Holder : null;

    /// <summary>How many sessions the table remembers.</summary>
    public int Count => _leases.Count;

    /// <summary>
    /// Forgets sessions whose lease ended more than two leases ago. A forgotten session that comes back starts a new
    /// term, as it would have anyway, and a page revoking it finds no lease to wait for, which is true.
    /// </summary>
    private void SweepIfDue(long now)
    {
        var swept = Volatile.Read(ref _sweptAt);
        if (now - swept < 10L * LeaseMilliseconds || Interlocked.CompareExchange(ref _sweptAt, now, swept) != swept) return;
        foreach (var (session, lease) in _leases)
            if (lease.Expiry + 2L * LeaseMilliseconds < now) _leases.TryRemove(KeyValuePair.Create(session, lease));
    }

    /// <summary>How long the session's lease still runs here; zero once it has ended.</summary>
    public TimeSpan Remaining(Guid session) =>
        _leases.TryGetValue(session, out var lease) ? RemainingOf(lease) : TimeSpan.Zero;

    /// <summary>
    /// Ends the session's current term without shortening it, for a page whose revocation the session did not
    /// acknowledge: renewals may have kept the session's copies valid meanwhile, so they must not extend them further,
    /// and the page must wait out what they already granted. Returns how long the ended term still runs.
    /// </summary>
    public TimeSpan EndTerm(Guid session)
    {
        while (_leases.TryGetValue(session, out var lease))
            if (lease.Ended || _leases.TryUpdate(session, lease with { Ended = true }, lease))
                return RemainingOf(lease);
        return TimeSpan.Zero;
    }

    private static TimeSpan RemainingOf(SessionLease lease) =>
        TimeSpan.FromMilliseconds(Math.Max(0, lease.Expiry - Environment.TickCount64));

    private sealed record SessionLease(long Expiry, long Term, bool Ended, ICacheHolder? Holder);
}
