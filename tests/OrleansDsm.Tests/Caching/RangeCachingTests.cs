using OrleansDsm.Connection;

namespace OrleansDsm.Tests.Caching;

/// <summary>
/// Range operations and the page cache: a range read of a cached region fills the cache with its pages, so reading
/// them again makes no call, and a client's own range write brings its copies up to date instead of dropping them; a
/// range too large for an eighth of the budget reads through without filling, so one scan cannot flush the cache.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class RangeCachingTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_range_read_fills_the_cache_and_an_own_range_write_keeps_the_copies_current()
    {
        await using var client = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { PrefetchPages = 0 });
        var array = await client.AllocateAsync<long>(UniqueNames.For("range-cache"), 4 * 512);
        await array.WriteAsync(0, Enumerable.Range(0, 4 * 512).Select(i => (long)i).ToArray());
        var read = new long[3 * 512];
        await array.ReadAsync(300, read);

        var before = CachedPageScenarios.PageReads(client);
        await array.ReadAsync(300, read);
        Assert.Equal(before, CachedPageScenarios.PageReads(client));
        Assert.Equal(Enumerable.Range(300, 3 * 512).Select(i => (long)i), read);

        await array.WriteAsync(510, new long[] { -1, -2, -3 });   // pages 0 and 1, both cached
        await array.ReadAsync(300, read);
        Assert.Equal(before, CachedPageScenarios.PageReads(client));
        Assert.Equal([-1L, -2, -3], read[210..213]);
    }

    [Fact]
    public async Task A_range_larger_than_an_eighth_of_the_budget_is_read_without_filling_the_cache()
    {
        await using var client = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { PrefetchPages = 0, CacheBytes = 8 * 4096 });
        var array = await client.AllocateAsync<long>(UniqueNames.For("range-scan"), 4 * 512);
        await array.ReadAsync(0, new long[2 * 512]);
        Assert.Equal(0, client.Cache!.Count);
        await array.ReadAsync(0, new long[512]);
        Assert.Equal(1, client.Cache!.Count);
    }
}
