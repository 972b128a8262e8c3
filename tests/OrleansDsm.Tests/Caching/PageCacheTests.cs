using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OrleansDsm.Caching;
using OrleansDsm.Pages;

namespace OrleansDsm.Tests.Caching;

/// <summary>The client cache serves repeated reads locally and stays coherent with writes from other sessions.</summary>
[Collection(ClusterCollection.Name)]
public sealed class PageCacheTests(ClusterFixture fixture)
{
    private static readonly string[] Reads = [nameof(IPageGrain.ReadElement), nameof(IPageGrain.Read), nameof(IPageGrain.Fill)];
    private static readonly string[] Fills = [nameof(IPageGrain.Fill)];

    [Fact]
    public async Task Reads_of_a_cached_page_make_no_grain_call()
    {
        var array = await fixture.Client.AllocateAsync<int>(UniqueNames.For("hits"), 1024);
        await array.SetAsync(7, 42);
        Assert.Equal(42, await array.GetAsync(7)); // the fill

        var before = ClusterFixture.PageCalls(Reads);
        var sum = 0L;
        for (var i = 0; i < 10_000; i++) sum += await array.GetAsync(i % 1024);
        var whole = new int[1024];
        await array.ReadAsync(0, whole);

        Assert.Equal(10L * 42, sum);
        Assert.Equal(42, whole[7]);
        Assert.Equal(before, ClusterFixture.PageCalls(Reads));
    }

    [Fact]
    public async Task Concurrent_reads_that_miss_one_page_fetch_it_once()
    {
        await using var writer = new DsmClient(fixture.Cluster.Client);
        await using var reader = new DsmClient(fixture.Cluster.Client, new OrleansDsm.Connection.DsmClientOptions { PrefetchPages = 0 });
        var written = await writer.AllocateAsync<long>(UniqueNames.For("one-fill"), 512);
        await written.WriteAsync(0, Enumerable.Range(0, 512).Select(i => (long)i * 3).ToArray());
        var array = await reader.OpenAsync<long>(written.Name);

        var before = ClusterFixture.PageCalls(Fills);
        var values = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => array.GetAsync(i * 31).AsTask()));

        Assert.Equal(Enumerable.Range(0, 16).Select(i => (long)i * 31 * 3), values);
        Assert.Equal(before + 1, ClusterFixture.PageCalls(Fills));
    }

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
        var before = ClusterFixture.PageCalls(Reads);
        var values = new List<long>();
        for (var i = 0; i < 5; i++) values.Add(await array.GetAsync(i));
        Assert.Equal([0L, 40, 20, 7, 0], values);
        Assert.Equal(before, ClusterFixture.PageCalls(Reads));
        Assert.Equal(4, client.Cache!.Metrics.Updates);
    }

    [Fact]
    public async Task While_a_clients_write_is_in_flight_its_reads_of_the_rest_of_the_page_stay_in_the_cache()
    {
        await using var client = new DsmClient(fixture.Cluster.Client);
        var array = await client.AllocateAsync<long>(UniqueNames.For("write-in-flight"), 512);
        await array.WriteAsync(0, Enumerable.Range(0, 512).Select(i => (long)i).ToArray());
        Assert.Equal(5, await array.GetAsync(5)); // the fill
        var before = ClusterFixture.PageCalls(Reads);

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
        Assert.Equal(before, ClusterFixture.PageCalls(Reads));
        Assert.Equal((100L, 101L, 102L), (await array.GetAsync(0), await array.GetAsync(1), await array.GetAsync(2)));
    }

    [Fact]
    public async Task A_copy_does_not_serve_the_range_its_client_is_writing_and_goes_if_the_write_fails()
    {
        var (client, array, cache, page, epoch, _) = await OwnCachedPageAsync("written-range");
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
        var reads = ClusterFixture.PageCalls(Reads);
        Assert.Equal(0, await array.GetAsync(2));
        Assert.Equal(reads + 1, ClusterFixture.PageCalls(Reads)); // the written element was read from the page

        cache.EndWrite(page, (8, 16), null); // failed: whether the page took the write is unknown
        Assert.False(cache.TryGet(page, epoch, 0, 8, out _), "the copy goes with the failed write");
        Assert.Equal(1, await array.GetAsync(0));
    }

    [Fact]
    public async Task A_write_by_another_session_costs_a_reader_only_the_written_bytes_of_its_copy_until_the_next_write()
    {
        await using var sessions = await ReaderCachingOnePageAsync("range-revoked", 5);
        var (reader, writer) = (sessions.Reader, sessions.Writer);
        var fills = ClusterFixture.PageCalls(Fills);

        await writer.SetAsync(7, 700);
        Assert.Equal(5, await reader.GetAsync(5));
        Assert.Equal(fills, ClusterFixture.PageCalls(Fills)); // the rest of the page is still cached
        Assert.Equal(700, await reader.GetAsync(7));
        Assert.Equal(fills + 1, ClusterFixture.PageCalls(Fills)); // the written element is fetched afresh, with the page

        // Each write sends the bytes it changed: the reader serves them from the next write on, so however many
        // elements are written, the copy never runs out of ranges it may lack. (The reader reads between writes: a copy
        // unread through several revocations goes.)
        const int writes = 2 * OrleansDsm.Caching.CachedPage.MaxBlockedRanges;
        for (var i = 0; i < writes; i++)
        {
            await writer.AddAsync(20 + i, 1000);
            Assert.Equal(5, await reader.GetAsync(5));
        }
        Assert.Equal((5L, 1020L, 1000L + 20 + writes - 2), (await reader.GetAsync(5), await reader.GetAsync(20), await reader.GetAsync(20 + writes - 2)));
        Assert.Equal(fills + 1, ClusterFixture.PageCalls(Fills));
        Assert.Equal(1000L + 20 + writes - 1, await reader.GetAsync(20 + writes - 1));
        Assert.Equal(fills + 2, ClusterFixture.PageCalls(Fills)); // the newest write's bytes were held back: fetched afresh
    }

    [Fact]
    public async Task A_change_larger_than_a_revocation_sends_is_fetched_afresh()
    {
        await using var sessions = await ReaderCachingOnePageAsync("large-change", 300);
        var (reader, writer) = (sessions.Reader, sessions.Writer);
        var fills = ClusterFixture.PageCalls(Fills);

        var large = Grains.Caching.CacheHolders.MostBytesSent / sizeof(long) + 1;
        await writer.WriteAsync(0, Enumerable.Repeat(-1L, large).ToArray());
        Assert.Equal(300, await reader.GetAsync(300)); // read between writes, as a hot page's copy is
        await writer.SetAsync(500, 5000); // the next revocation, which would let sent bytes be served
        Assert.Equal(300, await reader.GetAsync(300));
        Assert.Equal(fills, ClusterFixture.PageCalls(Fills)); // the rest of the page is still cached
        Assert.Equal(-1, await reader.GetAsync(large - 1));
        Assert.Equal(fills + 1, ClusterFixture.PageCalls(Fills)); // the large change was not sent: fetched afresh
    }

    [Fact]
    public async Task A_range_revocation_keeps_only_a_copy_of_the_version_before_that_lacks_few_ranges()
    {
        var (client, array, cache, page, epoch, version) = await OwnCachedPageAsync("range-kept");
        await using var owned = client;

        Assert.False(cache.Revoke(page, version + 2, (8, 8)), "a copy two versions behind goes");
        Assert.False(cache.Holds(page, epoch));
        Assert.False(cache.Revoke(page, version + 1, (8, 8)), "with no copy, none is kept");

        Assert.Equal(1, await array.GetAsync(0)); // filled again, at the page's version
        Assert.True(cache.Revoke(page, version + 1, (8, 8)), "a whole copy of the version before stays");
        Assert.True(cache.TryGet(page, epoch, 0, 8, out var kept));
        Assert.Equal((version + 1, 1L), (kept.Version, kept.Read<long>(0)));
        Assert.False(cache.TryGet(page, epoch, 8, 8, out _), "the changed bytes are not served");
        Assert.True(cache.Revoke(page, version + 1, (16, 8)), "a copy of the version itself stays as it is");
        Assert.True(cache.TryGet(page, epoch, 16, 8, out _));
        for (var i = 2; i <= CachedPage.MaxBlockedRanges; i++)
        {
            Assert.True(cache.Revoke(page, version + i, (8 * (i + 1), 8)), $"a copy lacking {i - 1} ranges stays");
            Assert.True(cache.TryGet(page, epoch, 0, 8, out _)); // read between writes: a copy unread through several revocations goes
        }
        Assert.False(cache.TryGet(page, epoch, 24, 8, out _), "each changed range is missing");
        Assert.True(cache.TryGet(page, epoch, 16, 8, out _));
        Assert.False(cache.Revoke(page, version + CachedPage.MaxBlockedRanges + 1, (512, 8)), "a copy lacking the most ranges goes");
        Assert.False(cache.TryGet(page, epoch, 0, 8, out _));

        Assert.Equal(1, await array.GetAsync(0));
        cache.BeginWrite(page, (24, 8));
        Assert.True(cache.Revoke(page, version + 1, (8, 8)), "a copy being written here stays");
        Assert.True(cache.TryGet(page, epoch, 0, 8, out _));
        Assert.False(cache.TryGet(page, epoch, 8, 8, out _), "the changed bytes are not served");
        Assert.False(cache.TryGet(page, epoch, 24, 8, out _), "the bytes being written are not served");
        cache.EndWrite(page, (24, 8), null);
        Assert.False(cache.TryGet(page, epoch, 0, 8, out _), "the copy goes with the failed write");

        // Kept through the write at the version just before it, the copy takes the write's own change.
        Assert.Equal(1, await array.GetAsync(0));
        cache.BeginWrite(page, (24, 8));
        Assert.True(cache.Revoke(page, version + 1, (8, 8)));
        cache.EndWrite(page, (24, 8), version + 2, new PageChange(24, BitConverter.GetBytes(5L)));
        Assert.True(cache.TryGet(page, epoch, 24, 8, out var written), "the written range is served again, from the write's change");
        Assert.Equal((version + 2, 5L, 1L), (written.Version, written.Read<long>(24), written.Read<long>(0)));
        Assert.False(cache.TryGet(page, epoch, 8, 8, out _), "the revoked range stays unserved");

        // Writes to bytes the copy already lacks do not use it up.
        for (var i = 3; i <= 3 + 2 * CachedPage.MaxBlockedRanges; i++)
        {
            Assert.True(cache.Revoke(page, version + i, (8, 8)), "a copy lacking the revoked range already stays");
            Assert.True(cache.TryGet(page, epoch, 0, 8, out _));
        }
        Assert.True(cache.TryGet(page, epoch, 0, 8, out var lacking));
        Assert.Equal(version + 3 + 2 * CachedPage.MaxBlockedRanges, lacking.Version);
        Assert.False(cache.TryGet(page, epoch, 8, 8, out _));
    }

    [Fact]
    public async Task Bytes_a_revocation_sends_are_served_from_the_next_revocation_on_and_never_use_up_the_copy()
    {
        var (client, _, cache, page, epoch, version) = await OwnCachedPageAsync("range-bytes");
        await using var owned = client;
        static byte[] Long(long value) => BitConverter.GetBytes(value);

        Assert.True(cache.Revoke(page, version + 1, (8, 8), Long(10)));
        Assert.True(cache.TryGet(page, epoch, 0, 8, out var first));
        Assert.Equal((version + 1, 1L), (first.Version, first.Read<long>(0)));
        Assert.False(cache.TryGet(page, epoch, 8, 8, out _), "until other holders have answered, the sent bytes are held back");

        Assert.True(cache.Revoke(page, version + 2, (16, 8), Long(20)));
        Assert.True(cache.TryGet(page, epoch, 8, 8, out var second), "the next revocation shows they have: the bytes are served");
        Assert.Equal((version + 2, 10L), (second.Version, second.Read<long>(8)));
        Assert.False(cache.TryGet(page, epoch, 16, 8, out _));
        Assert.True(cache.Revoke(page, version + 2, (24, 8), Long(30)), "a copy of the version itself stays");
        Assert.True(cache.TryGet(page, epoch, 24, 8, out var same), "as it was");
        Assert.Equal(0L, same.Read<long>(24));

        // Many more changes than a copy may lack ranges, each one served once the next arrives.
        for (var i = 3; i <= 3 + 2 * CachedPage.MaxBlockedRanges; i++)
        {
            Assert.True(cache.Revoke(page, version + i, (8 * i, 8), Long(10 * i)), "a copy given the bytes stays");
            Assert.True(cache.TryGet(page, epoch, 0, 8, out _));
        }
        Assert.True(cache.TryGet(page, epoch, 0, 8, out var healed));
        Assert.Equal(version + 3 + 2 * CachedPage.MaxBlockedRanges, healed.Version);
        for (var i = 2; i < 3 + 2 * CachedPage.MaxBlockedRanges; i++)
        {
            Assert.True(cache.TryGet(page, epoch, 8 * i, 8, out var served), $"the change of version {i} is served");
            Assert.Equal(10L * i, served.Read<long>(8 * i));
        }
        Assert.False(cache.TryGet(page, epoch, 8 * (3 + 2 * CachedPage.MaxBlockedRanges), 8, out _), "the newest change is held back");

        // A revocation without bytes still serves what the one before held back, and lacks its own range.
        var newest = version + 3 + 2 * CachedPage.MaxBlockedRanges;
        Assert.True(cache.Revoke(page, newest + 1, (8, 8)));
        Assert.True(cache.TryGet(page, epoch, 8 * (3 + 2 * CachedPage.MaxBlockedRanges), 8, out var last));
        Assert.Equal(10L * (3 + 2 * CachedPage.MaxBlockedRanges), last.Read<long>(8 * (3 + 2 * CachedPage.MaxBlockedRanges)));
        Assert.False(cache.TryGet(page, epoch, 8, 8, out _));

        // This client's own write applies what was held back before its change: the page answered it after every holder.
        Assert.True(cache.Revoke(page, newest + 2, (32, 8), Long(99)));
        cache.BeginWrite(page, (40, 8));
        cache.EndWrite(page, (40, 8), newest + 3, new PageChange(40, Long(7)));
        Assert.True(cache.TryGet(page, epoch, 32, 16, out var own));
        Assert.Equal((newest + 3, 99L, 7L), (own.Version, own.Read<long>(32), own.Read<long>(40)));
    }

    [Fact]
    public async Task Bytes_a_revocation_sends_are_not_served_while_another_holder_may_still_serve_the_version_before()
    {
        await using var writerClient = new DsmClient(fixture.Cluster.Client);
        await using var readerClient = new DsmClient(fixture.Cluster.Client, new OrleansDsm.Connection.DsmClientOptions { PrefetchPages = 0 });
        var writer = await writerClient.AllocateAsync<long>(UniqueNames.For("held-back"), 512);
        await writer.SetAsync(0, 1);
        var reader = await readerClient.OpenAsync<long>(writer.Name);
        Assert.Equal(0, await reader.GetAsync(7)); // the reader's fill
        var (pageNumber, epoch) = (writer.Region.FirstPage, writer.Region.Epoch);
        Assert.True(readerClient.Cache!.TryGet(pageNumber, epoch, out var before));
        // A second holder that never answers: until its lease runs out, it may still be serving the version before.
        var silent = new SilentHolder();
        var sinceFill = Stopwatch.StartNew(); // started before the lease the fill grants
        await fixture.Cluster.Client.GetGrain<IPageGrain>(pageNumber).Fill(epoch, Guid.NewGuid(), fixture.Cluster.Client.CreateObjectReference<ICacheHolder>(silent));

        var write = writer.SetAsync(7, 70);
        var asked = Stopwatch.StartNew();
        while (!(readerClient.Cache.TryGet(pageNumber, epoch, 0, 8, out var revoked) && revoked.Version > before.Version))
        {
            Assert.True(asked.Elapsed < ClusterFixture.CacheLease, "the reader was sent the revocation");
            await Task.Delay(1);
        }
        var value = await reader.GetAsync(7);
        var returned = sinceFill.Elapsed;
        await write;
        GC.KeepAlive(silent);

        // Served at once, the new value would be read here while the silent holder could still hand out the old one
        // to a read that starts later: not linearizable. The read fetches instead, and waits with the write, which
        // waits out the silent holder's lease (timers may fire a little early, hence the tenth off).
        Assert.Equal(70, value);
        Assert.True(returned >= ClusterFixture.CacheLease * 0.9,
            $"the read returned {returned.TotalMilliseconds:0} ms after the silent holder's fill, within its {ClusterFixture.CacheLease.TotalMilliseconds:0} ms lease");
    }

    [Fact]
    public async Task A_fill_that_lands_while_its_client_writes_the_page_is_cached_without_the_written_range()
    {
        var (client, array, cache, page, epoch, _) = await OwnCachedPageAsync("fill-during-write");
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
        var (client, _, cache, page, epoch, version) = await OwnCachedPageAsync("overlapping-own-writes");
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
        var (client, _, cache, page, epoch, _) = await OwnCachedPageAsync("many-own-writes");
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
    public async Task A_range_revocation_that_overtakes_a_fill_leaves_the_fills_copy_cached_without_the_range_or_with_the_bytes_sent()
    {
        var (client, _, cache, page, epoch, version) = await OwnCachedPageAsync("revoked-during-fill");
        await using var owned = client;

        // Revocations of the next two versions reach the cache while it fetches the page again.
        Assert.False(cache.Revoke(page, long.MaxValue - 1));
        var fill = cache.FillAsync(page, epoch, CancellationToken.None);
        Assert.True(cache.Revoke(page, version + 1, (8, 8)), "a fill in flight will bring a copy to keep");
        Assert.True(cache.Revoke(page, version + 2, (24, 8)));
        Assert.Equal(version, (await fill).Version);
        Assert.True(cache.TryGet(page, epoch, 0, 8, out var kept), "the fill's copy is cached as the newest version revoked");
        Assert.Equal((version + 2, 1L), (kept.Version, kept.Read<long>(0)));
        Assert.False(cache.TryGet(page, epoch, 8, 8, out _), "the first revocation's range is not served");
        Assert.False(cache.TryGet(page, epoch, 24, 8, out _), "the second revocation's range is not served");

        // A version between the copy and the revocation that named no range: the copy cannot be brought across it.
        Assert.False(cache.Revoke(page, long.MaxValue - 1));
        fill = cache.FillAsync(page, epoch, CancellationToken.None);
        Assert.True(cache.Revoke(page, version + 2, (8, 8)));
        await fill;
        Assert.False(cache.TryGet(page, epoch, 0, 8, out _), "a copy two versions behind the revocation is not cached");

        // Revocations that sent their bytes: the copy serves those of every version but the newest.
        Assert.False(cache.Revoke(page, long.MaxValue - 1));
        fill = cache.FillAsync(page, epoch, CancellationToken.None);
        Assert.True(cache.Revoke(page, version + 1, (8, 8), BitConverter.GetBytes(11L)));
        Assert.True(cache.Revoke(page, version + 2, (8, 8), BitConverter.GetBytes(12L)));
        Assert.True(cache.Revoke(page, version + 3, (24, 8)));
        Assert.Equal(version, (await fill).Version);
        Assert.True(cache.TryGet(page, epoch, 8, 8, out var bridged), "the changes before the newest are served");
        Assert.Equal((version + 3, 12L, 1L), (bridged.Version, bridged.Read<long>(8), bridged.Read<long>(0)));
        Assert.False(cache.TryGet(page, epoch, 24, 8, out _), "the newest change, sent without bytes, is not served");

        Assert.False(cache.Revoke(page, long.MaxValue - 1));
        fill = cache.FillAsync(page, epoch, CancellationToken.None);
        Assert.True(cache.Revoke(page, version + 1, (8, 8), BitConverter.GetBytes(13L)));
        await fill;
        Assert.True(cache.TryGet(page, epoch, 0, 8, out _));
        Assert.False(cache.TryGet(page, epoch, 8, 8, out _), "the newest change's bytes are held back");
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

    [Fact]
    public async Task A_write_from_another_session_is_seen_by_the_next_read()
    {
        await using var other = new DsmClient(fixture.Cluster.Client);
        var name = UniqueNames.For("coherent");
        var reader = await fixture.Client.AllocateAsync<long>(name, 512);
        var writer = await other.OpenAsync<long>(name);

        for (var round = 1; round <= 20; round++)
        {
            Assert.Equal(round - 1, await reader.GetAsync(3)); // cached after the first round's fill
            await writer.SetAsync(3, round);
            Assert.Equal(round, await reader.GetAsync(3));
            Assert.Equal(round, await writer.AddAsync(3, 0));
        }
    }

    [Fact]
    public async Task An_uncached_region_asks_its_page_every_time()
    {
        var array = await fixture.Client.AllocateAsync<int>(UniqueNames.For("uncached"), 16, Consistency.Uncached);
        await array.SetAsync(1, 5);

        var before = ClusterFixture.PageCalls(Reads);
        for (var i = 0; i < 50; i++) Assert.Equal(5, await array.GetAsync(1));

        Assert.Equal(before + 50, ClusterFixture.PageCalls(Reads));
    }

    [Fact]
    public async Task A_holder_that_never_answers_stalls_a_writer_for_at_most_one_lease()
    {
        var array = await fixture.Client.AllocateAsync<int>(UniqueNames.For("stall"), 1024);
        await array.SetAsync(0, 1);
        var page = fixture.Cluster.Client.GetGrain<IPageGrain>(array.Region.FirstPage);
        var silent = new SilentHolder();
        var reference = fixture.Cluster.Client.CreateObjectReference<ICacheHolder>(silent);
        await page.Fill(array.Region.Epoch, Guid.NewGuid(), reference);
        var unansweredBefore = RevocationsUnanswered();

        var stalled = Stopwatch.StartNew();
        await array.SetAsync(0, 2);
        stalled.Stop();
        GC.KeepAlive(silent);

        // It waited for the silent holder, but not without end: a write stuck on a silent holder would never return.
        // The upper bound leaves a whole lease of slack for this shared machine's scheduling (CI once took 1.2 leases more).
        Assert.True(stalled.Elapsed >= ClusterFixture.CacheLease / 2 && stalled.Elapsed <= ClusterFixture.CacheLease * 3,
            $"the write stalled {stalled.Elapsed.TotalMilliseconds:0} ms with a {ClusterFixture.CacheLease.TotalMilliseconds:0} ms lease");
        // The silent holder was dropped with its copy's revocation: the next write asks nothing of it, so it cannot
        // stall on it (counted, not timed, so a slow machine cannot fail it).
        await array.SetAsync(0, 3);
        Assert.Equal(1, silent.Calls);
        Assert.Equal(3, await array.GetAsync(0));
        // The silo counts it, so an operator sees writes waiting on clients that do not answer.
        Assert.True(RevocationsUnanswered() > unansweredBefore, "the silent holder's revocation should be counted as unanswered");
    }

    private long RevocationsUnanswered() =>
        fixture.Cluster.Silos.Sum(silo => silo.ServiceProvider.GetRequiredService<Grains.Metrics.SiloMetrics>().Totals.RevocationsUnanswered);

    [Fact]
    public async Task Revocations_for_one_session_that_pile_up_while_it_answers_reach_it_together()
    {
        const int Pages = 8;
        var array = await fixture.Client.AllocateAsync<long>(UniqueNames.For("revocations-together"), Pages * 512L);
        await array.WriteAsync(0, new long[Pages * 512]);
        var pages = Enumerable.Range(0, Pages).Select(i => fixture.Cluster.Client.GetGrain<IPageGrain>(array.Region.FirstPage + i)).ToArray();
        var slow = new SlowHolder();
        var session = Guid.NewGuid();
        var reference = fixture.Cluster.Client.CreateObjectReference<ICacheHolder>(slow);
        foreach (var page in pages) await page.Fill(array.Region.Epoch, session, reference);

        // One write a page, all at once. The holder answers nothing until the writes have had time to reach their
        // pages, renewing meanwhile so that no page gives up on it: every revocation that came meanwhile waits for it.
        var writes = Enumerable.Range(0, Pages).Select(i => array.SetAsync(i * 512L, i + 1)).ToArray();
        var held = Stopwatch.StartNew();
        while (slow.Calls == 0 || held.Elapsed < TimeSpan.FromMilliseconds(200))
        {
            Assert.True(held.Elapsed < TimeSpan.FromSeconds(10), "no revocation reached the holder");
            await Task.WhenAll(pages.Select(page => page.Renew(session)));
            await Task.Delay(20);
        }
        slow.Open();
        await Task.WhenAll(writes);
        GC.KeepAlive(slow);

        Assert.Equal(Pages, slow.Revocations);
        Assert.True(slow.Calls < Pages, $"{slow.Calls} calls carried the {Pages} revocations");
        Assert.Equal(Enumerable.Range(1, Pages).Select(i => (long)i), await Task.WhenAll(Enumerable.Range(0, Pages).Select(i => array.GetAsync(i * 512L).AsTask())));
    }

    [Fact]
    public async Task A_holder_that_renews_but_never_answers_a_revocation_loses_its_term()
    {
        var array = await fixture.Client.AllocateAsync<int>(UniqueNames.For("silent-renewer"), 1024);
        await array.SetAsync(0, 1);
        var page = fixture.Cluster.Client.GetGrain<IPageGrain>(array.Region.FirstPage);
        var silent = new SilentHolder();
        var reference = fixture.Cluster.Client.CreateObjectReference<ICacheHolder>(silent);
        var session = Guid.NewGuid();
        var granted = (await page.Fill(array.Region.Epoch, session, reference)).Lease;

        // The holder keeps renewing, so its copy stays valid past the lease it had when the revocation went out.
        // It renews until the write returns or for eight leases, so a write that renewals kept waiting would take eight.
        using var stop = new CancellationTokenSource(ClusterFixture.CacheLease * 8);
        var renewing = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await page.Renew(session);
                await Task.Delay(50);
            }
        });
        var stalled = Stopwatch.StartNew();
        await array.SetAsync(0, 2);
        stalled.Stop();
        await stop.CancelAsync();
        await renewing;
        GC.KeepAlive(silent);

        // The write waited out the renewed lease too (1.5 to 2 leases), yet well short of the renewals' eight; the renewals
        // after it start a new term, which revives nothing.
        Assert.True(stalled.Elapsed >= ClusterFixture.CacheLease * 1.5 && stalled.Elapsed <= ClusterFixture.CacheLease * 5,
            $"the write stalled {stalled.Elapsed.TotalMilliseconds:0} ms with a {ClusterFixture.CacheLease.TotalMilliseconds:0} ms lease");
        Assert.True((await page.Renew(session)).Term > granted.Term);
    }

    [Fact]
    public async Task A_freed_region_is_not_served_from_any_cache()
    {
        await using var other = new DsmClient(fixture.Cluster.Client);
        var name = UniqueNames.For("freed-cache");
        var cached = await other.AllocateAsync<int>(name, 4096);
        await cached.SetAsync(2000, 9);
        Assert.Equal(9, await cached.GetAsync(2000));
        Assert.Equal(0, await cached.GetAsync(10)); // a page never written is cached too

        await fixture.Client.FreeAsync(name, cached.OwnerToken);

        await Assert.ThrowsAsync<RegionFreedException>(() => cached.GetAsync(2000).AsTask());
        await Assert.ThrowsAsync<RegionFreedException>(() => cached.GetAsync(10).AsTask());
    }

    [Fact]
    public async Task The_cache_keeps_to_its_byte_budget_under_a_scan()
    {
        await using var small = new DsmClient(fixture.Cluster.Client, new OrleansDsm.Connection.DsmClientOptions { CacheBytes = 64 * 4096 });
        var array = await small.AllocateAsync<byte>(UniqueNames.For("budget"), 512 * 4096);
        for (var page = 0; page < 512; page++) await array.GetAsync(page * 4096L + 1);

        Assert.InRange(small.Cache!.Bytes, 1, 64 * 4096 + 4096 + 96);
    }

    [Fact]
    public async Task A_session_caching_many_pages_renews_once_per_silo_per_half_lease()
    {
        await using var client = new DsmClient(fixture.Cluster.Client);
        var array = await client.AllocateAsync<byte>(UniqueNames.For("renewals"), 2000 * 4096L);
        await Task.WhenAll(Enumerable.Range(0, 2000).Select(page => array.GetAsync(page * 4096L).AsTask()));
        // On a loaded machine the fills can outlast the session's lease on a silo: copies cached before that are
        // never served again and nothing renews them. A second pass caches every page under the current lease.
        foreach (var chunk in Enumerable.Range(0, 2000).Chunk(200))
            await Task.WhenAll(chunk.Select(page => array.GetAsync(page * 4096L).AsTask()));
        var before = client.Cache!.Metrics.Renewals;

        // Four leases at least, and longer on a machine so loaded that no renewal came in that time.
        var watched = System.Diagnostics.Stopwatch.StartNew();
        await Task.Delay(ClusterFixture.CacheLease * 4);
        while (client.Cache.Metrics.Renewals == before && watched.Elapsed < ClusterFixture.CacheLease * 40) await Task.Delay(ClusterFixture.CacheLease);
        var renewals = client.Cache.Metrics.Renewals - before;
        var halfLeases = (int)(watched.Elapsed / (ClusterFixture.CacheLease / 2));

        // 2 silos, one renewal each per half lease (plus one in flight at each end), however many pages are cached.
        Assert.InRange(renewals, 1, 2 * (halfLeases + 1));
        Assert.True(await array.GetAsync(4096L * 1999) == 0);
        Assert.Equal(2000, client.Cache.Count);
    }

    /// <summary>A client of its own with one page written (element 0 holds 1) and cached: the client, the array, its cache, the page and its epoch.</summary>
    private async Task<(DsmClient Client, OrleansDsm.Arrays.SharedArray<long> Array, PageCache Cache, long Page, long Epoch, long Version)> OwnCachedPageAsync(string name)
    {
        var client = new DsmClient(fixture.Cluster.Client);
        var array = await client.AllocateAsync<long>(UniqueNames.For(name), 512);
        await array.SetAsync(0, 1);
        Assert.Equal(1, await array.GetAsync(0)); // the fill
        Assert.True(client.Cache!.TryGet(array.Region.FirstPage, array.Region.Epoch, out var copy));
        return (client, array, client.Cache, array.Region.FirstPage, array.Region.Epoch, copy.Version);
    }

    /// <summary>
    /// A writer's session and a reader's (no prefetch) over one page holding 0 to 511, which the reader has cached by
    /// reading element <paramref name="cached"/>.
    /// </summary>
    private async Task<TwoSessions> ReaderCachingOnePageAsync(string name, long cached)
    {
        var readerClient = new DsmClient(fixture.Cluster.Client, new OrleansDsm.Connection.DsmClientOptions { PrefetchPages = 0 });
        var writerClient = new DsmClient(fixture.Cluster.Client);
        var writer = await writerClient.AllocateAsync<long>(UniqueNames.For(name), 512);
        await writer.WriteAsync(0, Enumerable.Range(0, 512).Select(i => (long)i).ToArray());
        var reader = await readerClient.OpenAsync<long>(writer.Name);
        Assert.Equal(cached, await reader.GetAsync(cached)); // the fill
        return new TwoSessions(readerClient, writerClient, reader, writer);
    }

    private sealed record TwoSessions(DsmClient ReaderClient, DsmClient WriterClient, OrleansDsm.Arrays.SharedArray<long> Reader, OrleansDsm.Arrays.SharedArray<long> Writer) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await ReaderClient.DisposeAsync();
            await WriterClient.DisposeAsync();
        }
    }

    /// <summary>A cache holder that never acknowledges a revocation, like a client that died.</summary>
    private sealed class SilentHolder : ICacheHolder
    {
        private int _calls;

        /// <summary>The revocation calls it was sent.</summary>
        public int Calls => Volatile.Read(ref _calls);

        public Task<bool[]> Revoke(PageRevocation[] revocations)
        {
            Interlocked.Increment(ref _calls);
            return new TaskCompletionSource<bool[]>().Task;
        }
    }
}
