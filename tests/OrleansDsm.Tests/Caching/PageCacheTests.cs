using static OrleansDsm.Tests.Caching.CachedPageScenarios;

namespace OrleansDsm.Tests.Caching;

/// <summary>The client cache serves repeated reads locally and stays coherent with writes from other sessions.</summary>
[Collection(ClusterCollection.Name)]
public sealed class PageCacheTests(ClusterFixture fixture)
{
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

        var before = PageReads(reader);
        var values = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => array.GetAsync(i * 31).AsTask()));

        Assert.Equal(Enumerable.Range(0, 16).Select(i => (long)i * 31 * 3), values);
        Assert.Equal(before + 1, PageReads(reader));
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

    [Fact]
    public async Task A_copy_filled_as_its_cache_starts_stays_valid_past_its_first_lease()
    {
        var name = UniqueNames.For("first-renewal");
        await (await fixture.Client.AllocateAsync<long>(name, 512)).SetAsync(3, 33);
        await using var client = new DsmClient(fixture.Cluster.Client, new OrleansDsm.Connection.DsmClientOptions { DirectChannel = false });
        var array = await client.OpenAsync<long>(name);
        Assert.Equal(33, await array.GetAsync(3)); // the fill, a few milliseconds after the cache started

        // Renewals timed from the cache's start by a guessed 1 s lease came after this copy's 500 ms had run out.
        var watched = System.Diagnostics.Stopwatch.StartNew();
        while (watched.Elapsed < ClusterFixture.CacheLease * 3)
        {
            Assert.Equal(33, await array.GetAsync(3));
            await Task.Delay(5);
        }
        Assert.Equal(1, client.Cache!.Metrics.Misses);
    }
}
