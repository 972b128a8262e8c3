using Orleans.Core.Internal;
using Microsoft.Extensions.DependencyInjection;
using OrleansDsm.Pages;
using OrleansDsm.Regions;

namespace OrleansDsm.Tests.Arrays;

/// <summary>
/// A batch read takes the committed image of each page active on its own silo without calling the page, and gives
/// exactly what the page's own read would: the same checks, the same errors, never a torn or stale page; a page that
/// deactivates stops being listed, and is called again.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class LocalPageReadTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_batch_read_on_the_silo_holding_a_page_takes_its_committed_image_without_calling_it()
    {
        var array = await fixture.Client.AllocateAsync<byte>(UniqueNames.For("local-read"), 4096);
        await array.WriteAsync(0, Enumerable.Repeat((byte)7, 4096).ToArray());
        var silo = Holding(array.Region.FirstPage);
        var grains = silo.GetRequiredService<IGrainFactory>();
        var committed = (await grains.GetGrain<IPageGrain>(array.Region.FirstPage).Read(array.Region.Epoch, 0, 4096)).Value;
        var calls = ClusterFixture.PageCalls(nameof(IPageGrain.Read));

        var pieces = (await grains.GetGrain<IPageBatchGrain>(0).Read(array.Region.Epoch,
            [new PageSpan(array.Region.FirstPage, 0, 4096), new PageSpan(array.Region.FirstPage, 100, 8)])).Value;

        Assert.Equal(calls, ClusterFixture.PageCalls(nameof(IPageGrain.Read)));
        Assert.Same(committed, pieces[0]);
        Assert.Equal(Enumerable.Repeat((byte)7, 8), pieces[1]);
    }

    [Fact]
    public async Task A_page_that_deactivates_is_no_longer_listed_and_a_batch_read_calls_it_for_the_latest_write()
    {
        var array = await fixture.Client.AllocateAsync<byte>(UniqueNames.For("local-gone"), 8192, Consistency.Uncached);
        await array.WriteAsync(0, Enumerable.Repeat((byte)3, 8192).ToArray());
        var page = array.Region.FirstPage;
        Holding(page);
        Holding(page + 1);

        // Deactivated by hand: a batch write keeps its pages active for their idle timeout, as a call would.
        foreach (var written in new[] { page, page + 1 })
            await fixture.Cluster.Client.GetGrain<IPageGrain>(written).Cast<IGrainManagementExtension>().DeactivateOnIdle();
        await ActivePages.WaitUntilGone(fixture.Cluster, page, page + 1);
        var calls = ClusterFixture.PageCalls(nameof(IPageGrain.Read));
        var contents = new byte[8192];
        await array.ReadAsync(0, contents);
        Assert.Equal(calls + 2, ClusterFixture.PageCalls(nameof(IPageGrain.Read)));
        Assert.All(contents, value => Assert.Equal(3, value));

        // The new activation lists itself, and its silo's batch reads see what was written after it came back.
        await array.WriteAsync(0, Enumerable.Repeat((byte)4, 4096).ToArray());
        var silo = Holding(page);
        var pieces = (await silo.GetRequiredService<IGrainFactory>().GetGrain<IPageBatchGrain>(0).Read(array.Region.Epoch, [new PageSpan(page, 0, 4096)])).Value;
        Assert.All(pieces[0], value => Assert.Equal(4, value));
    }

    [Fact]
    public async Task A_batch_read_of_a_listed_page_refuses_what_the_page_would_refuse()
    {
        var array = await fixture.Client.AllocateAsync<byte>(UniqueNames.For("local-refused"), 4096);
        await array.SetAsync(0, 1);
        var silo = Holding(array.Region.FirstPage);
        var batch = silo.GetRequiredService<IGrainFactory>().GetGrain<IPageBatchGrain>(0);

        var outside = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => batch.Read(array.Region.Epoch, [new PageSpan(array.Region.FirstPage, 4000, 200)]));
        Assert.Contains("must fit in the 4096-byte page", outside.Message);
        var freed = await Assert.ThrowsAsync<RegionFreedException>(() => batch.Read(array.Region.Epoch + 1_000_000, [new PageSpan(array.Region.FirstPage, 0, 8)]));
        Assert.Contains("freed", freed.Message);
        Assert.Equal(1, await array.GetAsync(0));
    }

    [Fact]
    public async Task Batch_reads_racing_whole_page_writes_see_whole_pages_never_older_than_the_last_write_acknowledged()
    {
        var array = await fixture.Client.AllocateAsync<byte>(UniqueNames.For("local-race"), 4096);
        await array.WriteAsync(0, new byte[4096]);
        var silo = Holding(array.Region.FirstPage);
        var batch = silo.GetRequiredService<IGrainFactory>().GetGrain<IPageBatchGrain>(0);
        var span = new PageSpan(array.Region.FirstPage, 0, 4096);
        var acknowledged = 0;
        using var stop = new CancellationTokenSource();

        var reader = Task.Run(async () =>
        {
            var reads = 0;
            var seen = 0;
            while (!stop.IsCancellationRequested || reads < 50)
            {
                var floor = Volatile.Read(ref acknowledged);
                var piece = (await batch.Read(array.Region.Epoch, [span])).Value[0];
                Assert.All(piece, value => Assert.Equal(piece[0], value));
                Assert.True(piece[0] >= floor, $"A read started after write {floor} was acknowledged returned {piece[0]}.");
                Assert.True(piece[0] >= seen, $"A read returned {piece[0]} after an earlier one returned {seen}.");
                seen = piece[0];
                reads++;
            }
            return reads;
        });
        for (var value = 1; value <= 200; value++)
        {
            await array.WriteAsync(0, Enumerable.Repeat((byte)value, 4096).ToArray());
            Volatile.Write(ref acknowledged, value);
        }
        await stop.CancelAsync();
        Assert.True(await reader >= 50);
    }

    [Fact]
    public async Task A_page_that_batch_reads_reach_stays_active_as_if_they_were_calls()
    {
        var batchRead = await fixture.Client.AllocateAsync<byte>(UniqueNames.For("local-read-kept"), 4096, Consistency.Uncached);
        var callRead = await fixture.Client.AllocateAsync<byte>(UniqueNames.For("local-read-idle"), 4096, Consistency.Uncached);
        await batchRead.SetAsync(0, 1);
        await callRead.SetAsync(0, 1);
        Assert.Equal(1, await callRead.GetAsync(0));
        var page = batchRead.Region.FirstPage;
        var batch = Holding(page).GetRequiredService<IGrainFactory>().GetGrain<IPageBatchGrain>(0);
        var calls = ClusterFixture.PageCalls(nameof(IPageGrain.Read));
        Assert.Equal([1], (await batch.Read(batchRead.Region.Epoch, [new PageSpan(page, 0, 1)])).Value[0]);
        Assert.Equal(calls, ClusterFixture.PageCalls(nameof(IPageGrain.Read)));
        var kept = ActivePages.Find(fixture.Cluster, page);
        // The read asks for the keep-alive in a task on the page's turn, which runs just after it returns.
        await Task.Delay(100);

        // Collecting every idle activation takes the page only calls read, and leaves the one a batch read last.
        await fixture.Cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        await ActivePages.WaitUntilGone(fixture.Cluster, callRead.Region.FirstPage);
        Assert.Same(kept, ActivePages.Find(fixture.Cluster, page));
        Assert.Equal(1, await batchRead.GetAsync(0));
    }

    /// <summary>The services of the one silo whose batch reads serve <paramref name="page"/> without a call.</summary>
    private IServiceProvider Holding(long page) => ActivePages.Holding(fixture.Cluster, page);
}
