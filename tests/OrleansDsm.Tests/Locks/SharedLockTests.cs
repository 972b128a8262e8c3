using OrleansDsm.Locks;

namespace OrleansDsm.Tests.Locks;

/// <summary>
/// The named lock on the in-process two-silo cluster: one holder at a time, tokens that only grow, a lease that frees
/// the lock of a holder that stops renewing, and fencing: a write carrying an ended hold's token is refused on every
/// page, those the next holder never touches included.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class SharedLockTests(ClusterFixture fixture)
{
    [Fact]
    public async Task One_holder_at_a_time_and_each_hold_has_a_larger_token()
    {
        await using var other = new DsmClient(fixture.Cluster.Client);
        var name = UniqueNames.For("lock");
        var first = await fixture.Client.Lock(name).AcquireAsync();

        Assert.Null(await other.Lock(name).TryAcquireAsync(TimeSpan.FromMilliseconds(300)));

        var waiting = other.Lock(name).AcquireAsync();
        await Task.Delay(200);
        Assert.False(waiting.IsCompleted);
        await first.DisposeAsync();
        await using var second = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(second.Token > first.Token);
    }

    [Fact]
    public async Task A_holder_that_stops_renewing_loses_the_lock_after_its_lease_and_its_writes_are_refused_everywhere()
    {
        // Long enough that the first hold's renewals keep it through its two writes while the suite starts up (400 ms
        // lost it once, a renewal late on two loaded cores); the next hold waits the lease out once renewals stop.
        var lease = TimeSpan.FromMilliseconds(1500);
        await using var other = new DsmClient(fixture.Cluster.Client);
        var name = UniqueNames.For("fenced");
        var array = await fixture.Client.AllocateAsync<long>(UniqueNames.For("guarded"), 4 * 512);
        var stale = await fixture.Client.Lock(name, lease).AcquireAsync();
        var staleView = array.Fenced(stale);
        await staleView.SetAsync(0, 1);
        await staleView.SetAsync(3 * 512, 1);

        await stale.StopRenewingAsync();
        // The next hold's lease is long: it must stay held to the end, and a renewal late by 400 ms on a loaded
        // machine (this suite runs tests side by side on two cores) lost it once.
        await using var next = await other.Lock(name, TimeSpan.FromSeconds(10)).TryAcquireAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(next);
        var nextView = (await other.OpenAsync<long>(array.Name)).Fenced(next);
        await nextView.SetAsync(0, 2);

        // Page 0 the new holder wrote; page 3 it never touched: both refuse the old token, and change nothing.
        var refused = await Assert.ThrowsAsync<LockLostException>(() => staleView.SetAsync(0, 99));
        Assert.Contains($"token {stale.Token}", refused.Message);
        await Assert.ThrowsAsync<LockLostException>(() => staleView.SetAsync(3 * 512, 99));
        await Assert.ThrowsAsync<LockLostException>(() => staleView.AddAsync(3 * 512 + 1, 5));
        await Assert.ThrowsAsync<LockLostException>(() => staleView.WriteAsync(3 * 512 + 8, new long[] { 7, 7 }));
        Assert.Equal(2, await array.GetAsync(0));
        Assert.Equal(1, await array.GetAsync(3 * 512));
        Assert.Equal(0, await array.GetAsync(3 * 512 + 1));
        Assert.Equal(0, await array.GetAsync(3 * 512 + 8));
        Assert.True(next!.Held);
        await stale.DisposeAsync();
    }

    [Fact]
    public async Task Writes_under_two_different_locks_interleave_on_one_page_and_all_apply()
    {
        var array = await fixture.Client.AllocateAsync<long>(UniqueNames.For("two-locks"), 512);
        await using var first = await fixture.Client.Lock(UniqueNames.For("left")).AcquireAsync();
        await using var second = await fixture.Client.Lock(UniqueNames.For("right")).AcquireAsync();
        var (left, right) = (array.Fenced(first), array.Fenced(second));

        await Task.WhenAll(Enumerable.Range(0, 100).Select(i => (i % 2 == 0 ? left : right).SetAsync(i, i + 1)));

        var values = new long[100];
        await array.ReadAsync(0, values);
        Assert.Equal(Enumerable.Range(1, 100).Select(i => (long)i), values);
    }

    [Fact]
    public async Task A_hold_outlives_a_deactivation_of_its_lock_and_its_release_frees_the_lock_at_once()
    {
        // Long enough that renewals get through while a whole cluster's idle grains are collected under the full
        // suite's load: at 600 ms, one run here saw the lease end between renewals, and the hold's write refused; at
        // 1.5 s, one full run in about thirty did.
        var lease = TimeSpan.FromSeconds(3);
        await using var other = new DsmClient(fixture.Cluster.Client);
        var name = UniqueNames.For("carried");
        var array = await fixture.Client.AllocateAsync<long>(UniqueNames.For("carried-guarded"), 512);
        var hold = await fixture.Client.Lock(name, lease).AcquireAsync();

        // The lock deactivates held (as on a silo's graceful stop); its holder renews with the next activation.
        await fixture.Cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        await Task.Delay(lease * 2);

        Assert.True(hold.Held, "the hold was lost when its lock deactivated");
        await array.Fenced(hold).SetAsync(0, 1);
        Assert.Equal(1, await array.GetAsync(0));
        Assert.Null(await other.Lock(name, lease).TryAcquireAsync(TimeSpan.Zero));

        await hold.DisposeAsync();
        var waited = System.Diagnostics.Stopwatch.StartNew();
        await using var next = await other.Lock(name, lease).TryAcquireAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(next);
        Assert.True(waited.Elapsed < lease, $"a released lock waited {waited.Elapsed} after a deactivation");
        Assert.True(next!.Token > hold.Token);
    }

    [Fact]
    public async Task Tokens_keep_growing_across_a_deactivation_and_a_lock_collected_free_is_granted_at_once()
    {
        var name = UniqueNames.For("collected");
        var shared = fixture.Client.Lock(name);
        var tokens = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            await using var hold = await shared.AcquireAsync();
            tokens.Add(hold.Token);
        }
        // The last release is one-way and may land after the collection: the next activation then honors it, since the
        // deactivation stored the hold it found.

        await fixture.Cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        await using (var hold = await shared.TryAcquireAsync(TimeSpan.FromSeconds(10)))
        {
            Assert.NotNull(hold);
            tokens.Add(hold!.Token);
        }

        Assert.True(waited.Elapsed < shared.Lease, $"a lock stored free waited {waited.Elapsed}");
        Assert.Equal(tokens.Order(), tokens);
        Assert.Equal(tokens.Count, tokens.Distinct().Count());
    }

    [Fact]
    public async Task Bad_lock_arguments_are_refused_before_any_call()
    {
        Assert.Throws<ArgumentException>(() => fixture.Client.Lock(" "));
        Assert.Throws<ArgumentOutOfRangeException>(() => fixture.Client.Lock("x", TimeSpan.FromMilliseconds(10)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => fixture.Client.Lock("x").TryAcquireAsync(TimeSpan.FromSeconds(-1)));
    }
}
