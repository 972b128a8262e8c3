using System.Diagnostics;
using Orleans.Core.Internal;
using OrleansDsm.Pages;

namespace OrleansDsm.Tests.Arrays;

/// <summary>
/// Waiting for an element to change: the waiter is woken by the write itself, with one call and no polling, sees the
/// new value afterwards, gives up at its timeout, fails when the region is freed, and does not hold up its page's
/// deactivation.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class WaitForChangeTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_waiter_wakes_on_another_clients_write_with_one_call_and_then_reads_the_new_value()
    {
        await using var other = new DsmClient(fixture.Cluster.Client);
        var array = await fixture.Client.AllocateAsync<long>(UniqueNames.For("waited"), 1024);
        Assert.Equal(0, await array.GetAsync(5)); // cached: the wake must come with the cached copy revoked
        var calls = ClusterFixture.PageCalls(nameof(OrleansDsm.Pages.IPageGrain.WaitForChange));

        var waiting = array.WaitForChangeAsync(5, 0, TimeSpan.FromSeconds(20));
        await Task.Delay(700);
        Assert.False(waiting.IsCompleted);
        await (await other.OpenAsync<long>(array.Name)).SetAsync(5, 7);

        Assert.True(await waiting.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(7, await array.GetAsync(5));
        Assert.Equal(calls + 1, ClusterFixture.PageCalls(nameof(OrleansDsm.Pages.IPageGrain.WaitForChange)));
    }

    [Fact]
    public async Task A_waiter_returns_at_once_when_the_element_already_differs_and_false_at_its_timeout()
    {
        var array = await fixture.Client.AllocateAsync<int>(UniqueNames.For("timeout"), 1024);
        await array.SetAsync(1, 3);
        Assert.True(await array.WaitForChangeAsync(1, 0, TimeSpan.FromSeconds(5)));

        var waited = Stopwatch.StartNew();
        Assert.False(await array.WaitForChangeAsync(2, 0, TimeSpan.FromSeconds(1.5)));
        Assert.InRange(waited.Elapsed, TimeSpan.FromSeconds(1.4), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Bad_waits_are_refused_and_a_free_fails_the_waiters()
    {
        var name = UniqueNames.For("freed-wait");
        var array = await fixture.Client.AllocateAsync<long>(name, 16);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => array.WaitForChangeAsync(0, 0, TimeSpan.FromSeconds(-1)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => array.WaitForChangeAsync(16, 0, TimeSpan.FromSeconds(1)));

        var waiting = array.WaitForChangeAsync(0, 0, TimeSpan.FromSeconds(20));
        await Task.Delay(500);
        await fixture.Client.FreeAsync(name);

        await Assert.ThrowsAsync<RegionFreedException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_page_that_starts_to_deactivate_ends_the_waits_in_it_at_once_and_a_waiter_goes_on_in_its_next_activation()
    {
        var array = await fixture.Client.AllocateAsync<long>(UniqueNames.For("leaving"), 1024);
        await array.SetAsync(5, 1);
        var page = fixture.Cluster.Client.GetGrain<IPageGrain>(array.Region.FirstPage);
        var before = Activation(array.Region.FirstPage);

        // One call that would wait 5 s in the page, and a waiter through the array, which asks again as calls end.
        var call = page.WaitForChange(array.Region.Epoch, 5 * sizeof(long), sizeof(long), 1, TimeSpan.FromSeconds(5));
        var waiter = array.WaitForChangeAsync(5, 1, TimeSpan.FromSeconds(30));
        await Task.Delay(500);
        var deactivating = Stopwatch.StartNew();
        await page.Cast<IGrainManagementExtension>().DeactivateOnIdle();

        // Orleans finishes a deactivation only once no call runs in the page: a write sent now is served by the next
        // activation, which held the waits' time (4.5 s more) before the page ended them.
        await array.SetAsync(6, 9);
        Assert.True(deactivating.Elapsed < TimeSpan.FromSeconds(2.5), $"the write after the deactivation began took {deactivating.Elapsed.TotalMilliseconds:0} ms");
        Assert.False(await call); // ended as if its time were up, with nothing changed
        Assert.NotSame(before, Activation(array.Region.FirstPage));
        Assert.False(waiter.IsCompleted);

        await array.SetAsync(5, 2);
        Assert.True(await waiter.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    private object? Activation(long page) => ActivePages.Find(fixture.Cluster, page);
}
