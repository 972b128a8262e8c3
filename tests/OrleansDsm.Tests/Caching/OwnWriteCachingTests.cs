using System.Diagnostics;
using OrleansDsm.Caching;
using static OrleansDsm.Tests.Caching.CachedPageScenarios;

namespace OrleansDsm.Tests.Caching;

/// <summary>
/// A client's own writes keep its cached copy of the page: the copy stops serving only the range being written, takes
/// each write's change as it returns, and a fill that lands meanwhile is cached without the written range.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class OwnWriteCachingTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_clients_own_write_updates_its_cached_copy_instead_of_dropping_it()
    {
        await using var client = new DsmClient(fixture.Cluster.Client);
        var array = await client.AllocateAsync<long>(UniqueNames.For("own-write"), 512);
        await array.SetAsync(1, 10); // the page's first write: nothing cached yet
        Assert.Equal(10, await array.GetAsync(1)); // the fill

        await array.SetAsync(2, 20);
        Assert.Equal(31, await array.AddAsync(1, 21));
        Assert.Equal(31, await array.CompareExchangeAsync(1, 40, 31));
        Assert.Equal(0, await array.ExchangeAsync(3, 7));
        var before = PageReads(client);
        var values = new List<long>();
        for (var i = 0; i < 5; i++) values.Add(await array.GetAsync(i));
        Assert.Equal([0L, 40, 20, 7, 0], values);
        Assert.Equal(before, PageReads(client));
        Assert.Equal(4, client.Cache!.Metrics.Updates);
    }

    [Fact]
    public async Task A_copy_its_client_wrote_after_caching_it_serves_the_written_and_the_untouched_bytes()
    {
        var (client, array, cache, page, epoch, _) = await OwnCachedPageAsync(fixture, "overlaid-reads");
        await using var _ = client;
        await array.SetAsync(5, 55);
        // The write's change is laid over the copy's bytes rather than copied into new ones.
        Assert.True(cache.TryGet(page, epoch, out var copy));
        Assert.False(copy.ServesWhole);
        Assert.True(copy.ServesEvery);

        var calls = PageReads(client);
        var hits = cache.Metrics.Hits;
        for (var round = 0; round < 3; round++)
        {
            Assert.Equal(1, array[0]);
            Assert.Equal(55, array[5]);
            Assert.Equal(0, array[6]);
            Assert.Equal(55, await array.GetAsync(5));
        }
        Assert.Equal(calls, PageReads(client));
        Assert.Equal(hits + 12, cache.Metrics.Hits);
    }

    [Fact]
    public async Task While_a_clients_write_is_in_flight_its_reads_of_the_rest_of_the_page_stay_in_the_cache()
    {
        await using var client = new DsmClient(fixture.Cluster.Client);
        var array = await client.AllocateAsync<long>(UniqueNames.For("write-in-flight"), 512);
        await array.WriteAsync(0, Enumerable.Range(0, 512).Select(i => (long)i).ToArray());
        Assert.Equal(5, await array.GetAsync(5)); // the fill
        var before = PageReads(client);

        // Each write has gone out when its call returns; the read after it runs before the write can return, or after
        // the write's own change has brought the copy up to date: either way it is a hit, answered at once.
        var element = array.SetAsync(0, 100);
        var duringElement = array.GetAsync(5);
        Assert.True(duringElement.IsCompletedSuccessfully, "a read of another element during an element write is served from the cache");
        await element;
        var range = array.WriteAsync(1, new long[] { 101, 102 });
        var duringRange = array.GetAsync(6);
        Assert.True(duringRange.IsCompletedSuccessfully, "a read of another element during a range write is served from the cache");
        await range;

        Assert.Equal((5L, 6L), (await duringElement, await duringRange));
        Assert.Equal(before, PageReads(client));
        Assert.Equal((100L, 101L, 102L), (await array.GetAsync(0), await array.GetAsync(1), await array.GetAsync(2)));
    }

    [Fact]
    public async Task A_copy_does_not_serve_the_range_its_client_is_writing_and_goes_if_the_write_fails()
    {
        var (client, array, cache, page, epoch, _) = await OwnCachedPageAsync(fixture, "written-range");
        await using var owned = client;

        cache.BeginWrite(page, (8, 16));

        Assert.True(cache.TryGet(page, epoch, 0, 8, out var before), "the bytes before the written range are served");
        Assert.Equal(1, before.Read<long>(0));
        Assert.True(cache.TryGet(page, epoch, 24, 8, out _), "the bytes after the written range are served");
        Assert.False(cache.TryGet(page, epoch, 16, 8, out _), "the written range is not served");
        Assert.False(cache.TryGet(page, epoch, 0, 9, out _), "a read overlapping the written range is not served");
        Assert.False(cache.TryGet(page, epoch, out _), "the whole page is not served");
        Assert.False(cache.Holds(page, epoch));
        // Counted at the page rather than by the read's task being unfinished on return: a preempted test thread can
        // find the page's answer already in.
        var reads = PageReads(client);
        Assert.Equal(0, await array.GetAsync(2));
        Assert.Equal(reads + 1, PageReads(client)); // the written element was read from the page

        cache.EndWrite(page, (8, 16), null); // failed: whether the page took the write is unknown
        Assert.False(cache.TryGet(page, epoch, 0, 8, out _), "the copy goes with the failed write");
        Assert.Equal(1, await array.GetAsync(0));
    }

    [Fact]
    public async Task A_fill_that_lands_while_its_client_writes_the_page_is_cached_without_the_written_range()
    {
        var (client, array, cache, page, epoch, _) = await OwnCachedPageAsync(fixture, "fill-during-write");
        await using var owned = client;
        await array.SetAsync(1, 2);

        // The fill reads the page after the write reached it: once the write returns, the copy serves the whole page.
        Assert.False(cache.Revoke(page, long.MaxValue - 1), "no copy is cached when the write begins");
        cache.BeginWrite(page, (8, 8));
        var fill = await cache.FillAsync(page, epoch, CancellationToken.None);
        Assert.True(cache.TryGet(page, epoch, 0, 8, out var during), "the rest of the page is served while the write runs");
        Assert.Equal((fill.Version, 1L), (during.Version, during.Read<long>(0)));
        Assert.False(cache.TryGet(page, epoch, 8, 8, out _), "the range being written is not served");
        cache.EndWrite(page, (8, 8), fill.Version, new PageChange(8, BitConverter.GetBytes(2L)));
        Assert.True(cache.TryGet(page, epoch, out var after), "a copy as new as the write serves the whole page");
        Assert.Equal((fill.Version, 2L), (after.Version, after.Read<long>(8)));

        // The fill read the version before the write's: the write's own change brings the copy up to date.
        Assert.False(cache.Revoke(page, long.MaxValue - 1));
        cache.BeginWrite(page, (16, 8));
        fill = await cache.FillAsync(page, epoch, CancellationToken.None);
        cache.EndWrite(page, (16, 8), fill.Version + 1, new PageChange(16, BitConverter.GetBytes(3L)));
        Assert.True(cache.TryGet(page, epoch, out var updated));
        Assert.Equal((fill.Version + 1, 1L, 3L), (updated.Version, updated.Read<long>(0), updated.Read<long>(16)));

        // The fill read a version older still: it holds neither the write nor what came between, and goes.
        Assert.False(cache.Revoke(page, long.MaxValue - 1));
        cache.BeginWrite(page, (16, 8));
        fill = await cache.FillAsync(page, epoch, CancellationToken.None);
        cache.EndWrite(page, (16, 8), fill.Version + 2, new PageChange(16, BitConverter.GetBytes(4L)));
        Assert.False(cache.TryGet(page, epoch, 0, 8, out _));
    }

    [Fact]
    public async Task A_copy_takes_its_clients_overlapping_writes_as_they_return_in_the_order_the_page_made_them()
    {
        var (client, _, cache, page, epoch, version) = await OwnCachedPageAsync(fixture, "overlapping-own-writes");
        await using var owned = client;

        // Three writes in flight at once, returning in another order than the page applied them.
        cache.BeginWrite(page, (8, 8));
        cache.BeginWrite(page, (16, 8));
        cache.BeginWrite(page, (24, 8));
        cache.EndWrite(page, (16, 8), version + 2, new PageChange(16, BitConverter.GetBytes(20L)));
        Assert.False(cache.TryGet(page, epoch, 16, 8, out _), "a write the copy cannot reach yet is not served");
        Assert.True(cache.TryGet(page, epoch, 0, 8, out _), "the bytes no write touched are");
        cache.EndWrite(page, (8, 8), version + 1, new PageChange(8, BitConverter.GetBytes(10L)));
        Assert.True(cache.TryGet(page, epoch, 16, 8, out var caughtUp), "the first write's change takes the copy through both");
        Assert.Equal((version + 2, 10L, 20L, 1L), (caughtUp.Version, caughtUp.Read<long>(8), caughtUp.Read<long>(16), caughtUp.Read<long>(0)));
        Assert.False(cache.TryGet(page, epoch, 24, 8, out _), "the write still in flight is not served");
        cache.EndWrite(page, (24, 8), version + 3, new PageChange(24, BitConverter.GetBytes(30L)));
        Assert.True(cache.TryGet(page, epoch, out var whole), "once the writes are over, the copy serves the whole page");
        Assert.Equal((version + 3, 30L), (whole.Version, whole.Read<long>(24)));

        // A version between this client's writes that no revocation brought: the copy cannot hold it, and goes.
        cache.BeginWrite(page, (8, 8));
        cache.BeginWrite(page, (16, 8));
        cache.EndWrite(page, (8, 8), version + 4, new PageChange(8, BitConverter.GetBytes(11L)));
        Assert.True(cache.TryGet(page, epoch, 8, 8, out var first), "a write that follows on from the copy is served at once");
        Assert.Equal((version + 4, 11L), (first.Version, first.Read<long>(8)));
        cache.EndWrite(page, (16, 8), version + 6, new PageChange(16, BitConverter.GetBytes(21L)));
        Assert.False(cache.TryGet(page, epoch, 0, 8, out _), "a copy that missed a version goes");
    }

    [Fact]
    public async Task Own_writes_in_flight_on_one_page_block_a_bounded_number_of_ranges()
    {
        var (client, _, cache, page, epoch, _) = await OwnCachedPageAsync(fixture, "many-own-writes");
        await using var owned = client;

        for (var i = 1; i <= CachedPage.MaxBlockedRanges; i++) cache.BeginWrite(page, (8 * i, 8));
        Assert.True(cache.TryGet(page, epoch, 0, 8, out _), "a copy lacking the most ranges still serves the rest");
        cache.BeginWrite(page, (8 * (CachedPage.MaxBlockedRanges + 1), 8));
        Assert.False(cache.TryGet(page, epoch, 0, 8, out _), "one more write takes the copy");
        await cache.FillAsync(page, epoch, CancellationToken.None);
        Assert.False(cache.TryGet(page, epoch, 0, 8, out _), "a fill that lands while more writes run than a copy may lack is not cached");

        for (var i = 0; i <= CachedPage.MaxBlockedRanges; i++) cache.EndWrite(page, (8 * (i + 1), 8), null);
        await cache.FillAsync(page, epoch, CancellationToken.None);
        Assert.True(cache.TryGet(page, epoch, out _), "once the writes are over, fills are cached again");
    }

    [Fact]
    public async Task Fills_that_overlap_on_a_fresh_page_do_not_hold_up_its_first_write_for_a_lease()
    {
        // Overlapping fills once each registered the page with its region; the second found the first's record, took
        // it for a crashed predecessor's, and made every write of the activation wait out a cache lease.
        var clients = Enumerable.Range(0, 4).Select(_ => new DsmClient(fixture.Cluster.Client)).ToArray();
        try
        {
            var writes = new List<TimeSpan>();
            for (var trial = 0; trial < 3; trial++)
            {
                var name = UniqueNames.For("fresh-fills");
                await clients[0].AllocateAsync<long>(name, 512);
                var arrays = await Task.WhenAll(clients.Select(client => client.OpenAsync<long>(name)));
                await Task.WhenAll(arrays.Select((array, i) => array.GetAsync(i).AsTask()));
                var started = Stopwatch.GetTimestamp();
                await arrays[0].SetAsync(0, 1);
                writes.Add(Stopwatch.GetElapsedTime(started));
            }
            Assert.True(writes.Min() < ClusterFixture.CacheLease * 0.4, $"first writes took {string.Join(", ", writes.Select(w => $"{w.TotalMilliseconds:0} ms"))}");
        }
        finally
        {
            foreach (var client in clients) await client.DisposeAsync();
        }
    }
}
