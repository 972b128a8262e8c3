using OrleansDsm.Connection;

namespace OrleansDsm.Tests.Caching;

/// <summary>
/// The pager's cache tracks which pages it holds valid copies of without keeping their bytes (the mapping keeps them):
/// a mapped page is not held twice, and revocations still reach it.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class TrackingOnlyCacheTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_cache_that_keeps_no_bytes_charges_only_bookkeeping_serves_no_reads_and_still_learns_of_writes()
    {
        await using var tracker = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { CacheKeepsBytes = false, PrefetchPages = 0 });
        await using var writer = new DsmClient(fixture.Cluster.Client);
        var array = await writer.AllocateAsync<long>(UniqueNames.For("tracking"), 4 * 512);
        await array.WriteAsync(0, Enumerable.Range(1, 4 * 512).Select(i => (long)i).ToArray());
        var cache = tracker.Cache!;
        var (first, epoch) = (array.Region.FirstPage, array.Region.Epoch);

        var copies = new List<byte[]?>();
        for (var page = 0; page < 4; page++) copies.Add((await cache.FillAsync(first + page, epoch, CancellationToken.None)).ServedBytes());

        Assert.All(copies, bytes => Assert.Equal(4096, bytes?.Length)); // the fill hands its caller the bytes
        Assert.Equal(BitConverter.GetBytes(513L), copies[1]![..8]);
        Assert.True(Enumerable.Range(0, 4).All(page => cache.Holds(first + page, epoch)));
        Assert.True(cache.Bytes < 4 * 200, $"4 tracked pages are charged {cache.Bytes} bytes: their bytes were kept");

        var viaTracker = await tracker.OpenAsync<long>(array.Name);
        var hitsBefore = cache.Metrics.Hits;
        Assert.Equal(514L, await viaTracker.GetAsync(513));
        Assert.Equal(hitsBefore, cache.Metrics.Hits); // served by the page, not by a copy without bytes

        await array.SetAsync(2 * 512, -1);
        Assert.False(cache.Holds(first + 2, epoch), "another client's write revokes the tracked copy");
        Assert.True(cache.Holds(first + 3, epoch));
    }

    [Fact]
    public async Task A_fill_a_range_revocation_overtakes_hands_over_what_it_fetched_and_leaves_the_page_not_held()
    {
        await using var tracker = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { CacheKeepsBytes = false, PrefetchPages = 0 });
        await using var writer = new DsmClient(fixture.Cluster.Client);
        var array = await writer.AllocateAsync<long>(UniqueNames.For("tracking-bridged"), 512);
        await array.WriteAsync(0, Enumerable.Range(1, 512).Select(i => (long)i).ToArray());
        var cache = tracker.Cache!;
        var (page, epoch) = (array.Region.FirstPage, array.Region.Epoch);
        var version = (await cache.FillAsync(page, epoch, CancellationToken.None)).Version;

        // The pager maps what a fill hands it and asks Holds at every acquire: a copy the cache brought across a
        // revocation that overtook the fill lacks the revoked range (with or without the bytes sent, which a cache
        // keeping no bytes cannot hold back), so the next acquire drops the page and the one after fetches it afresh.
        foreach (var sent in new byte[]?[] { null, BitConverter.GetBytes(12L) })
        {
            Assert.False(cache.Revoke(page, long.MaxValue - 1));
            var fill = cache.FillAsync(page, epoch, CancellationToken.None);
            Assert.True(cache.Revoke(page, version + 1, (8, 8), sent), "a fill in flight will bring a copy to keep");
            var copy = await fill;
            Assert.Equal(version, copy.Version);
            Assert.Equal(BitConverter.GetBytes(2L), copy.ServedBytes()![8..16]);
            Assert.False(cache.Holds(page, epoch), "a copy that lacks a range is not held whole");
        }
    }
}
