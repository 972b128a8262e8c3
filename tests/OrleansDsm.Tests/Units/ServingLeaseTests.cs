using Microsoft.Extensions.Options;
using OrleansDsm.Errors;
using OrleansDsm.Grains.Hosting;
using OrleansDsm.Grains.Serving;

namespace OrleansDsm.Tests.Units;

/// <summary>A silo's serving lease: held only while renewed once renewal is required, and a hold on new activations after a silo death.</summary>
public sealed class ServingLeaseTests
{
    private static ServingLease Lease(int milliseconds) =>
        new(Options.Create(new AddressSpaceOptions { ServingLease = TimeSpan.FromMilliseconds(milliseconds) }));

    [Fact]
    public async Task Without_an_authority_the_lease_is_always_held()
    {
        var lease = Lease(200);
        await lease.RequireAsync(page: 1);
        Assert.True(lease.IsHeld);
        Assert.Equal(TimeSpan.MaxValue, lease.Remaining);
    }

    [Fact]
    public async Task Once_renewal_is_required_the_silo_serves_only_until_its_last_renewal_runs_out()
    {
        // A lease of a second, so a loaded machine's stall between two statements cannot outlast it.
        var lease = Lease(1000);
        lease.RequireRenewal();
        Assert.False(lease.IsHeld);

        lease.Renewed(Environment.TickCount64);
        Assert.True(lease.IsHeld);
        Assert.InRange(lease.Remaining, TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(1000));

        // The lease counts from when the renewing read was sent, less a margin: one sent a lease ago gives nothing.
        await Task.Delay(1050);
        lease.Renewed(Environment.TickCount64 - 1000);
        Assert.False(lease.IsHeld);
        var refused = await Assert.ThrowsAsync<SiloNotServingException>(() => lease.RequireAsync(page: 42).AsTask());
        Assert.Contains("page 42", refused.Message);
    }

    [Fact]
    public async Task A_page_waits_for_a_renewal_that_comes_within_one_lease()
    {
        // A lease far longer than the 100 ms looked at: with 400 ms, a delay stretched by a loaded machine once let the
        // wait end (unrenewed) before the test looked.
        var lease = Lease(3000);
        lease.RequireRenewal();
        var waiting = lease.RequireAsync(page: 1).AsTask();
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);

        lease.Renewed(Environment.TickCount64);

        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void A_silo_death_holds_activations_for_one_lease_from_when_it_was_learned()
    {
        var lease = Lease(1000);
        Assert.True(lease.ActivationsHeldUntil < Environment.TickCount64);

        var learned = Environment.TickCount64;
        lease.SiloDeclaredDead();

        Assert.InRange(lease.ActivationsHeldUntil, learned + 1000, Environment.TickCount64 + 1000);
    }
}
