using System.Diagnostics;
using OrleansDsm.Caching;
using OrleansDsm.Pages;
using static OrleansDsm.Tests.Caching.CachedPageScenarios;

namespace OrleansDsm.Tests.Caching;

/// <summary>
/// A write by another session costs a reader's copy only the bytes it changed: the copy keeps serving the rest, and
/// serves the changed bytes sent with the revocation once no other holder may still serve the version before.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class PartialRevocationTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_write_by_another_session_costs_a_reader_only_the_written_bytes_of_its_copy_until_the_next_write()
    {
        await using var sessions = await ReaderCachingOnePageAsync(fixture, "range-revoked", 5);
        var (reader, writer) = (sessions.Reader, sessions.Writer);
        var fills = sessions.ReaderFills;

        await writer.SetAsync(7, 700);
        Assert.Equal(5, await reader.GetAsync(5));
        Assert.Equal(fills, sessions.ReaderFills); // the rest of the page is still cached
        Assert.Equal(700, await reader.GetAsync(7));
        Assert.Equal(fills + 1, sessions.ReaderFills); // the written element is fetched afresh, with the page

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
        Assert.Equal(fills + 1, sessions.ReaderFills);
        Assert.Equal(1000L + 20 + writes - 1, await reader.GetAsync(20 + writes - 1));
        Assert.Equal(fills + 2, sessions.ReaderFills); // the newest write's bytes were held back: fetched afresh
    }

    [Fact]
    public async Task A_change_larger_than_a_revocation_sends_is_fetched_afresh()
    {
        await using var sessions = await ReaderCachingOnePageAsync(fixture, "large-change", 300);
        var (reader, writer) = (sessions.Reader, sessions.Writer);
        var fills = sessions.ReaderFills;

        var large = Grains.Caching.CacheHolders.MostBytesSent / sizeof(long) + 1;
        await writer.WriteAsync(0, Enumerable.Repeat(-1L, large).ToArray());
        Assert.Equal(300, await reader.GetAsync(300)); // read between writes, as a hot page's copy is
        await writer.SetAsync(500, 5000); // the next revocation, which would let sent bytes be served
        Assert.Equal(300, await reader.GetAsync(300));
        Assert.Equal(fills, sessions.ReaderFills); // the rest of the page is still cached
        Assert.Equal(-1, await reader.GetAsync(large - 1));
        Assert.Equal(fills + 1, sessions.ReaderFills); // the large change was not sent: fetched afresh
    }

    [Fact]
    public async Task A_range_revocation_keeps_only_a_copy_of_the_version_before_that_lacks_few_ranges()
    {
        var (client, array, cache, page, epoch, version) = await OwnCachedPageAsync(fixture, "range-kept");
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
        var (client, _, cache, page, epoch, version) = await OwnCachedPageAsync(fixture, "range-bytes");
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
        var silent = new SlowHolder(); // never opened: a holder that died
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
    public async Task A_range_revocation_that_overtakes_a_fill_leaves_the_fills_copy_cached_without_the_range_or_with_the_bytes_sent()
    {
        // Fills are calls, which the silo holds until the revocations below have reached the cache: left to race, a fill
        // that came back first would be a copy cached before them, not one in flight.
        var (client, _, cache, page, epoch, version) = await OwnCachedPageAsync(fixture, "revoked-during-fill", new OrleansDsm.Connection.DsmClientOptions { DirectChannel = false });
        await using var owned = client;
        var session = client.CacheSession!.Value;
        var held = new TaskCompletionSource();
        (Task<CachedPage> Fill, TaskCompletionSource Release) FillHeldAtTheSilo()
        {
            Assert.False(cache.Revoke(page, long.MaxValue - 1));
            held = new TaskCompletionSource();
            ClusterFixture.FillsHeld[session] = held.Task;
            return (cache.FillAsync(page, epoch, CancellationToken.None), held);
        }
        try
        {
            // Revocations of the next two versions reach the cache while it fetches the page again.
            var (fill, release) = FillHeldAtTheSilo();
            Assert.True(cache.Revoke(page, version + 1, (8, 8)), "a fill in flight will bring a copy to keep");
            Assert.True(cache.Revoke(page, version + 2, (24, 8)));
            release.SetResult();
            Assert.Equal(version, (await fill).Version);
            Assert.True(cache.TryGet(page, epoch, 0, 8, out var kept), "the fill's copy is cached as the newest version revoked");
            Assert.Equal((version + 2, 1L), (kept.Version, kept.Read<long>(0)));
            Assert.False(cache.TryGet(page, epoch, 8, 8, out _), "the first revocation's range is not served");
            Assert.False(cache.TryGet(page, epoch, 24, 8, out _), "the second revocation's range is not served");

            // A version between the copy and the revocation that named no range: the copy cannot be brought across it.
            (fill, release) = FillHeldAtTheSilo();
            Assert.True(cache.Revoke(page, version + 2, (8, 8)));
            release.SetResult();
            await fill;
            Assert.False(cache.TryGet(page, epoch, 0, 8, out _), "a copy two versions behind the revocation is not cached");

            // Revocations that sent their bytes: the copy serves those of every version but the newest.
            (fill, release) = FillHeldAtTheSilo();
            Assert.True(cache.Revoke(page, version + 1, (8, 8), BitConverter.GetBytes(11L)));
            Assert.True(cache.Revoke(page, version + 2, (8, 8), BitConverter.GetBytes(12L)));
            Assert.True(cache.Revoke(page, version + 3, (24, 8)));
            release.SetResult();
            Assert.Equal(version, (await fill).Version);
            Assert.True(cache.TryGet(page, epoch, 8, 8, out var bridged), "the changes before the newest are served");
            Assert.Equal((version + 3, 12L, 1L), (bridged.Version, bridged.Read<long>(8), bridged.Read<long>(0)));
            Assert.False(cache.TryGet(page, epoch, 24, 8, out _), "the newest change, sent without bytes, is not served");

            (fill, release) = FillHeldAtTheSilo();
            Assert.True(cache.Revoke(page, version + 1, (8, 8), BitConverter.GetBytes(13L)));
            release.SetResult();
            await fill;
            Assert.True(cache.TryGet(page, epoch, 0, 8, out _));
            Assert.False(cache.TryGet(page, epoch, 8, 8, out _), "the newest change's bytes are held back");
        }
        finally
        {
            ClusterFixture.FillsHeld.TryRemove(session, out _);
            held.TrySetResult(); // a failed check must not leave a fill waiting at the silo
        }
    }
}
