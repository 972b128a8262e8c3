using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using OrleansDsm.Grains.Hosting;

namespace OrleansDsm.Grains.Caching;

/// <summary>
/// The cache sessions this silo has granted leases to, and until when, on this silo's monotonic clock. A lease is
/// renewed by a fill or a renewal arriving here; it covers every page of this silo that the session caches, so a
/// client renews once per silo, not once per page. The client counts its lease from when it sent the request, which
/// is never later than when it arrived here, so the client always stops trusting a copy before this silo would.
/// </summary>
internal sealed class SessionLeaseTable(IOptions<AddressSpaceOptions> options, ILocalSiloDetails silo)
{
    /// <summary>This silo's name as fills and renewals report it; one string shared by every page.</summary>
    public string Silo { get; } = silo.SiloAddress.ToParsableString();

    private readonly ConcurrentDictionary<Guid, long> _expiries = new();

    public int LeaseMilliseconds { get; } = (int)options.Value.CacheLease.TotalMilliseconds;

    public void Renew(Guid session)
    {
        var expiry = Environment.TickCount64 + LeaseMilliseconds;
        _expiries.AddOrUpdate(session, expiry, (_, current) => Math.Max(current, expiry));
    }

    /// <summary>How long the session's lease still runs here; zero once it has ended.</summary>
    public TimeSpan Remaining(Guid session) =>
        _expiries.TryGetValue(session, out var expiry)
            ? TimeSpan.FromMilliseconds(Math.Max(0, expiry - Environment.TickCount64))
            : TimeSpan.Zero;
}
