using OrleansDsm.Connection;
using OrleansDsm.Pages;

namespace OrleansDsm.Tests.Caching;

/// <summary>A Bounded region may serve old values, but never older than its bound, and each client reads its own writes.</summary>
[Collection(ClusterCollection.Name)]
public sealed class BoundedConsistencyTests(ClusterFixture fixture)
{
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }

    [Fact]
    public async Task A_read_is_never_older_than_the_bound()
    {
        var clock = new ManualClock();
        await using var reader = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { Clock = clock });
        var name = UniqueNames.For("bounded");
        var writer = await fixture.Client.AllocateAsync<int>(name, 1024, Consistency.Bounded(TimeSpan.FromSeconds(10)));
        var view = await reader.OpenAsync<int>(name);
        Assert.Equal(0, await view.GetAsync(0));

        await writer.SetAsync(0, 1);
        Assert.Equal(1, await writer.GetAsync(0)); // the writer reads its own write

        clock.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(0, await view.GetAsync(0));   // 9 s old: within the bound
        clock.Advance(TimeSpan.FromSeconds(1.5));
        Assert.Equal(1, await view.GetAsync(0));   // would be 10.5 s old: read again
    }

    [Fact]
    public async Task A_freed_bounded_region_is_served_from_a_copy_only_until_the_bound()
    {
        var clock = new ManualClock();
        await using var reader = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { Clock = clock });
        var name = UniqueNames.For("bounded-freed");
        var writer = await fixture.Client.AllocateAsync<int>(name, 1024, Consistency.Bounded(TimeSpan.FromSeconds(10)));
        await writer.SetAsync(3, 33);
        var view = await reader.OpenAsync<int>(name);
        Assert.Equal(33, await view.GetAsync(3));

        await fixture.Client.FreeAsync(name);

        clock.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(33, await view.GetAsync(3)); // a value 9 s old: Bounded allows it
        clock.Advance(TimeSpan.FromSeconds(1.5));
        await Assert.ThrowsAsync<RegionFreedException>(() => view.GetAsync(3).AsTask());
    }

    [Fact]
    public async Task Writers_never_wait_for_bounded_readers()
    {
        var name = UniqueNames.For("bounded-writes");
        await using var reader = new DsmClient(fixture.Cluster.Client);
        var writer = await fixture.Client.AllocateAsync<long>(name, 512, Consistency.Bounded(TimeSpan.FromSeconds(1)));
        var view = await reader.OpenAsync<long>(name);
        var (fillsBefore, readsBefore) = (ClusterFixture.PageCalls(nameof(IPageGrain.Fill)), ClusterFixture.PageCalls(nameof(IPageGrain.Read)));
        var servedBefore = reader.Direct?.Served ?? 0;
        Assert.Equal(0, await view.GetAsync(5));
        Assert.Equal(0, await view.GetAsync(6)); // served from the copy

        // The copy came from a plain read, neither a fill call nor a fill over the direct channel: the reader is no
        // holder, so the write below revokes nothing.
        Assert.Equal((fillsBefore, servedBefore), (ClusterFixture.PageCalls(nameof(IPageGrain.Fill)), reader.Direct?.Served ?? 0));
        Assert.Equal(readsBefore + 1, ClusterFixture.PageCalls(nameof(IPageGrain.Read)));
        await writer.SetAsync(5, 7);
        Assert.Equal("Bounded(00:00:01)", (await fixture.Client.DescribeAsync(name)).Consistency.ToString());
    }

    [Fact]
    public async Task A_bounded_copy_outlives_its_clients_own_writes_and_serves_their_bytes_unless_they_overlapped()
    {
        await using var client = new DsmClient(fixture.Cluster.Client);
        var view = await OneBoundedPageAsync(client, "bounded-own-writes");
        var readsBefore = ClusterFixture.PageCalls(nameof(IPageGrain.Read));
        Assert.Equal(0, await view.GetAsync(6));

        await view.SetAsync(5, 7);
        Assert.Equal(0, await view.GetAsync(6)); // the copy still serves the bytes the write left alone
        Assert.Equal(7, await view.GetAsync(5)); // and those it wrote, from the write's own change
        Assert.Equal(readsBefore + 1, ClusterFixture.PageCalls(nameof(IPageGrain.Read)));

        // Writes in flight together, to different elements: each one's bytes are served from its change.
        await Task.WhenAll(view.SetAsync(5, 8), view.SetAsync(9, 9));
        Assert.Equal((8L, 9L, 0L), (await view.GetAsync(5), await view.GetAsync(9), await view.GetAsync(6)));
        Assert.Equal(readsBefore + 1, ClusterFixture.PageCalls(nameof(IPageGrain.Read)));

        // Two to the same element: the page chose their order, so the copy does not serve what they wrote. Slow storage
        // keeps the first in flight until the others have begun: over the direct channel a write can otherwise return
        // before the test thread starts the next, and writes one after the other are ordered, their last value served.
        ClusterFixture.PageWrites.Delay = TimeSpan.FromMilliseconds(300);
        try
        {
            await Task.WhenAll(view.SetAsync(5, 10), view.SetAsync(5, 11), view.SetAsync(9, 12));
        }
        finally
        {
            ClusterFixture.PageWrites.Delay = TimeSpan.Zero;
        }
        Assert.Equal((0L, 12L), (await view.GetAsync(6), await view.GetAsync(9)));
        Assert.Equal(readsBefore + 1, ClusterFixture.PageCalls(nameof(IPageGrain.Read)));
        Assert.Contains(await view.GetAsync(5), new long[] { 10, 11 }); // read again
        Assert.Equal(readsBefore + 2, ClusterFixture.PageCalls(nameof(IPageGrain.Read)));
    }

    [Fact]
    public async Task A_first_write_of_a_whole_page_over_a_bounded_copy_is_read_back()
    {
        await using var client = new DsmClient(fixture.Cluster.Client);
        var view = await OneBoundedPageAsync(client, "bounded-whole-page");
        Assert.Equal(0, await view.GetAsync(0)); // a copy of the page as never written

        var page = Enumerable.Range(1, 512).Select(value => (long)value).ToArray();
        await view.WriteAsync(0, page);
        var back = new long[512];
        await view.ReadAsync(0, back);
        Assert.Equal(page, back);
    }

    /// <summary>A new region of one page of longs, Bounded to a minute, as <paramref name="client"/> opens it.</summary>
    private async Task<OrleansDsm.Arrays.SharedArray<long>> OneBoundedPageAsync(DsmClient client, string purpose)
    {
        var name = UniqueNames.For(purpose);
        await fixture.Client.AllocateAsync<long>(name, 512, Consistency.Bounded(TimeSpan.FromMinutes(1)));
        return await client.OpenAsync<long>(name);
    }

    [Fact]
    public async Task A_malformed_consistency_is_refused()
    {
        var broken = Consistency.Strict with { Kind = ConsistencyKind.Bounded };
        await Assert.ThrowsAsync<ArgumentException>(() => fixture.Client.AllocateAsync<int>(UniqueNames.For("broken"), 4, broken));
        Assert.Throws<ArgumentOutOfRangeException>(() => Consistency.Bounded(TimeSpan.Zero));
    }
}
