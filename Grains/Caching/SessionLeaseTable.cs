using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using OrleansDsm.Caching;
using OrleansDsm.Grains.Hosting;

namespace OrleansDsm.Grains.Caching;

/// <summary>
/// The cache sessions this silo has granted leases to, and until when, on this silo's monotonic clock. A lease is
/// renewed by a fill or a renewal arriving here; it covers every page of this silo that the session caches, so a
/// client renews once per silo, not once per page. The client counts its lease from when it sent the request, which
/// is never later than when it arrived here, so the client always stops trusting a copy before this silo would.
/// A request that finds the lease ended starts a new term (see <see cref="LeaseGrant.Term"/>).
/// </summary>
internal sealed class SessionLeaseTable(IOptions<AddressSpaceOptions> options, ILocalSiloDetails silo)
{
    private readonly ConcurrentDictionary<Guid, SessionLease> _leases = new();

    /// <summary>This silo's name as grants report it; one string shared by every page.</summary>
    public string Silo { get; } = silo.SiloAddress.ToParsableString();

    public int LeaseMilliseconds { get; } = (int)options.Value.CacheLease.TotalMilliseconds;

    public LeaseGrant Renew(Guid session)
    {
        var lease = _leases.AddOrUpdate(session,
            static (_, arrival) => new SessionLease(arrival.Now + arrival.Length, 1),
            static (_, current, arrival) => current.Expiry > arrival.Now
                ? current with { Expiry = Math.Max(current.Expiry, arrival.Now + arrival.Length) }
                : new SessionLease(arrival.Now + arrival.Length, current.Term + 1),
            (Now: Environment.TickCount64, Length: (long)LeaseMilliseconds));
        return new LeaseGrant(Silo, lease.Term, LeaseMilliseconds);
    }

    /// <summary>How long the session's lease still runs here; zero once it has ended.</summary>
    public TimeSpan Remaining(Guid session) =>
        _leases.TryGetValue(session, out var lease)
            ? TimeSpan.FromMilliseconds(Math.Max(0, lease.Expiry - Environment.TickCount64))
            : TimeSpan.Zero;

    private sealed record SessionLease(long Expiry, long Term);
}
