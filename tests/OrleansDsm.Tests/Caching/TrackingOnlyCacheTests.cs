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
}
