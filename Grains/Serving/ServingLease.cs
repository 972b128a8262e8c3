using Microsoft.Extensions.Options;
using OrleansDsm.Grains.Hosting;

namespace OrleansDsm.Grains.Serving;

/// <summary>
/// Whether this silo may serve pages, and when new page activations may start serving.
/// <para>With an external membership authority (PostgreSQL mode), a silo serves only while it holds a lease it renews
/// by reading its own row in the membership table (see the silo's renewer): a silo that cannot reach the table, or
/// finds itself declared dead there, stops serving reads, writes, fills and cache renewals before the lease runs out,
/// and grants cache leases no longer than what is left of it. The lease is counted on the monotonic clock from when
/// the renewing read was sent, less a margin for clock-rate drift.</para>
/// <para>A page that moved after a silo died must not serve while the dead silo may still serve its old copy (it may
/// only be cut off, not dead). That silo's last renewal was sent before the cluster declared it dead, so its lease
/// ends less than one lease after this silo learns of the death: page activations made in that time wait until then
/// (<see cref="ActivationsHeldUntil"/>).</para>
/// Without an authority (one silo on localhost, in-memory storage) the lease is always held.
/// </summary>
public sealed class ServingLease(IOptions<AddressSpaceOptions> options)
{
    private long _validUntil = long.MaxValue;
    private long _activationsHeldUntil;

    /// <summary>How long one renewal lets the silo serve.</summary>
    public TimeSpan Length { get; } = options.Value.ServingLease;

    private long LengthMilliseconds => (long)Length.TotalMilliseconds;

    /// <summary>From now on the silo serves only while renewed; it holds no lease until the first renewal.</summary>
    public void RequireRenewal() => Volatile.Write(ref _validUntil, 0);

    /// <summary>Extends the lease after a renewing read sent at <paramref name="sentAt"/> (<see cref="Environment.TickCount64"/>) confirmed membership.</summary>
    public void Renewed(long sentAt)
    {
        var until = sentAt + LengthMilliseconds - (LengthMilliseconds / 10 + 5);
        long current;
        while ((current = Volatile.Read(ref _validUntil)) < until)
            if (Interlocked.CompareExchange(ref _validUntil, until, current) == current) return;
    }

    /// <summary>How long the lease still runs; zero when it has run out.</summary>
    public TimeSpan Remaining
    {
        get
        {
            var until = Volatile.Read(ref _validUntil);
            return until == long.MaxValue ? TimeSpan.MaxValue : TimeSpan.FromMilliseconds(Math.Max(0, until - Environment.TickCount64));
        }
    }

    /// <summary>Whether the silo may serve pages now.</summary>
    public bool IsHeld => Environment.TickCount64 < Volatile.Read(ref _validUntil);

    /// <summary>Until when (<see cref="Environment.TickCount64"/>) page activations made now must wait before serving.</summary>
    public long ActivationsHeldUntil => Volatile.Read(ref _activationsHeldUntil);

    /// <summary>This silo learned that another silo was declared dead: its lease ends within one lease from now.</summary>
    public void SiloDeclaredDead()
    {
        var until = Environment.TickCount64 + LengthMilliseconds;
        long current;
        while ((current = Volatile.Read(ref _activationsHeldUntil)) < until)
            if (Interlocked.CompareExchange(ref _activationsHeldUntil, until, current) == current) return;
    }

    /// <summary>
    /// Returns once the lease is held, waiting up to one lease for a renewal (a silo starting, a slow read), or throws
    /// <see cref="SiloNotServingException"/>. Callers read or change the page right after it, in the same turn.
    /// </summary>
    public ValueTask RequireAsync(long page) => IsHeld ? ValueTask.CompletedTask : WaitForRenewalAsync(page);

    private async ValueTask WaitForRenewalAsync(long page)
    {
        var deadline = Environment.TickCount64 + LengthMilliseconds;
        while (!IsHeld)
        {
            if (Environment.TickCount64 >= deadline)
                throw new SiloNotServingException(
                    $"This silo holds no serving lease, so it does not serve page {page}: it has not confirmed its membership in the last {Length.TotalSeconds:0.###} s.");
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(10, LengthMilliseconds / 20)));
        }
    }
}
