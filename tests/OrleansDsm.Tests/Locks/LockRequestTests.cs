using OrleansDsm.Locks;

namespace OrleansDsm.Tests.Locks;

/// <summary>
/// A lock grants each request at most once: a request sent again, after a lost answer or a lost gateway, gets the grant
/// its first attempt got while that hold lasts, and nothing once it has ended.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class LockRequestTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(10);

    private ILockGrain Lock(string name) => fixture.Cluster.Client.GetGrain<ILockGrain>(name);

    [Fact]
    public async Task A_request_sent_again_gets_the_grant_its_first_attempt_got()
    {
        var (holder, request) = (Guid.NewGuid(), Guid.NewGuid());
        var grain = Lock(UniqueNames.For("request-again"));

        var first = await grain.TryAcquire(holder, request, Lease, TimeSpan.Zero);
        var again = await grain.TryAcquire(holder, request, Lease, TimeSpan.Zero);

        Assert.NotNull(first);
        Assert.Equal(first, again);
        Assert.Null(await grain.TryAcquire(holder, Guid.NewGuid(), Lease, TimeSpan.Zero));
    }

    [Fact]
    public async Task A_request_whose_hold_ended_is_not_granted_again()
    {
        var (holder, request) = (Guid.NewGuid(), Guid.NewGuid());
        var grain = Lock(UniqueNames.For("request-ended"));
        var first = await grain.TryAcquire(holder, request, Lease, TimeSpan.Zero);
        await grain.Release(holder, first!.Token);
        // The release is one-way: it has been applied once the hold no longer validates.
        while (await grain.Validate(first.Token) > TimeSpan.Zero) await Task.Delay(10);

        Assert.Null(await grain.TryAcquire(holder, request, Lease, TimeSpan.FromMilliseconds(200)));
        var next = await grain.TryAcquire(holder, Guid.NewGuid(), Lease, TimeSpan.Zero);
        Assert.True(next!.Token > first.Token);
    }

    [Fact]
    public async Task A_request_sent_again_after_its_lock_deactivated_held_gets_the_grant_it_got_before()
    {
        var (holder, request) = (Guid.NewGuid(), Guid.NewGuid());
        var grain = Lock(UniqueNames.For("request-carried"));
        var first = await grain.TryAcquire(holder, request, Lease, TimeSpan.Zero);

        // The lock deactivates held, as on a silo's graceful stop, and the next activation carries the hold on.
        await fixture.Cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        Assert.Equal(first, await grain.TryAcquire(holder, request, Lease, TimeSpan.Zero));
        Assert.Null(await grain.TryAcquire(holder, Guid.NewGuid(), Lease, TimeSpan.Zero));
    }

    [Fact]
    public async Task Two_attempts_of_one_request_waiting_for_the_lock_both_get_its_one_grant()
    {
        var grain = Lock(UniqueNames.For("request-waiting"));
        var (other, holder, request) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var taken = await grain.TryAcquire(other, Guid.NewGuid(), Lease, TimeSpan.Zero);
        var attempts = new[] { grain.TryAcquire(holder, request, Lease, TimeSpan.FromSeconds(8)), grain.TryAcquire(holder, request, Lease, TimeSpan.FromSeconds(8)) };
        await Task.Delay(200);
        Assert.DoesNotContain(attempts, attempt => attempt.IsCompleted);

        await grain.Release(other, taken!.Token);
        var grants = await Task.WhenAll(attempts).WaitAsync(TimeSpan.FromSeconds(4));

        Assert.NotNull(grants[0]);
        Assert.Equal(grants[0], grants[1]);
        Assert.True(grants[0]!.Token > taken.Token);
    }

    [Fact]
    public async Task A_request_without_an_id_is_refused()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => Lock(UniqueNames.For("request-none")).TryAcquire(Guid.NewGuid(), Guid.Empty, Lease, TimeSpan.Zero));
        Assert.Contains("request", error.Message, StringComparison.Ordinal);
    }
}
