using CsCheck;
using OrleansDsm.Connection;

namespace OrleansDsm.Tests.Caching;

/// <summary>
/// The client cache never holds more than its byte budget, under any access pattern: random mixes of sequential scans
/// (with prefetch), random reads, range reads, bursts of parallel reads, own writes that update copies in place, and
/// other clients' writes that revoke them, on Strict and Bounded regions, with budgets from a few pages up.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class CacheBudgetTests(ClusterFixture fixture)
{
    private const int Pages = 48;
    private const int LongsPerPage = 4096 / sizeof(long);

    [Fact]
    public async Task The_cache_stays_within_its_budget_and_reads_stay_right_under_random_access_patterns()
    {
        var shapes =
            from budgetPages in Gen.Int[2, 24]
            from prefetch in Gen.Int[0, 8]
            from steps in Gen.Select(Gen.Int[0, 5], Gen.Int[0, Pages * LongsPerPage - 1], Gen.Int[1, 5 * LongsPerPage]).Array[60]
            select (budgetPages, prefetch, steps);
        var largest = 0L;

        await shapes.SampleAsync(async shape =>
        {
            var budget = shape.budgetPages * 4096L + 1000;
            await using var client = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { CacheBytes = budget, PrefetchPages = shape.prefetch });
            await using var other = new DsmClient(fixture.Cluster.Client);
            var strict = await client.AllocateAsync<long>(UniqueNames.For("budget"), Pages * LongsPerPage);
            var bounded = await client.AllocateAsync<long>(UniqueNames.For("budget-bounded"), Pages * LongsPerPage, Consistency.Bounded(TimeSpan.FromMilliseconds(50)));
            var strictFromOther = await other.OpenAsync<long>(strict.Name);
            var expected = new long[Pages * LongsPerPage];

            foreach (var (kind, index, length) in shape.steps)
            {
                var count = Math.Min(length, expected.Length - index);
                switch (kind)
                {
                    case 0: // a sequential scan, which prefetches ahead
                        for (var i = index; i < index + count; i += 64) Assert.Equal(expected[i], await strict.GetAsync(i));
                        break;
                    case 1: // a range read, small enough to fill the cache or large enough to bypass it
                        var range = new long[count];
                        await strict.ReadAsync(index, range);
                        Assert.Equal(expected.AsSpan(index, count).ToArray(), range);
                        break;
                    case 2: // a burst of parallel reads all over both regions
                        var reads = Enumerable.Range(0, 16).Select(k => (index + k * 997) % expected.Length).ToArray();
                        var values = await Task.WhenAll(reads.Select(i => strict.GetAsync(i).AsTask()));
                        Assert.Equal(reads.Select(i => expected[i]), values);
                        await Task.WhenAll(reads.Select(i => bounded.GetAsync(i).AsTask()));
                        break;
                    case 3: // an own write: the cached copy is updated in place
                        await strict.SetAsync(index, index + 1);
                        expected[index] = index + 1;
                        break;
                    case 4: // another client's write: the cached copy is revoked
                        await strictFromOther.SetAsync(index, -index);
                        expected[index] = -index;
                        break;
                    default: // a Bounded scan, whose copies no page revokes
                        for (var i = index; i < index + count; i += 256) await bounded.GetAsync(i);
                        break;
                }
                var cache = client.Cache!;
                Assert.True(cache.Bytes <= budget, $"the cache holds {cache.Bytes} bytes over its budget of {budget} after step {kind}");
                Assert.InRange(cache.EvictionQueueLength, 0, 2 * cache.Count + 65);
                // The count kept beside the entries must be their costs exactly, changes laid over copies' bytes
                // included. Prefetches may still be installing pages between the two reads, so a mismatch counts only
                // once it holds still.
                for (var look = 1; ; look++)
                {
                    var (bytes, counted) = (cache.Bytes, cache.CostOfEntries);
                    if (bytes == counted) break;
                    Assert.True(look < 50, $"the cache counts {bytes} bytes but its entries cost {counted} after step {kind}");
                    await Task.Delay(10);
                }
                largest = Math.Max(largest, cache.Bytes);
            }
        }, iter: 12, threads: 1);

        Assert.True(largest > 2 * 4096, $"the runs never filled the cache past two pages ({largest} bytes), so the budget was not tested");
    }

    [Fact]
    public async Task A_page_written_and_read_again_and_again_under_budget_does_not_grow_the_cache_bookkeeping()
    {
        await using var client = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { PrefetchPages = 0 });
        await using var other = new DsmClient(fixture.Cluster.Client);
        var reader = await client.AllocateAsync<long>(UniqueNames.For("requeue"), 2 * LongsPerPage);
        var writer = await other.OpenAsync<long>(reader.Name);

        for (var round = 1; round <= 300; round++)
        {
            await writer.SetAsync(0, round); // revokes the reader's copy
            Assert.Equal(round, await reader.GetAsync(0)); // and the read caches it again
        }

        Assert.InRange(client.Cache!.EvictionQueueLength, 1, 2 * client.Cache.Count + 65);
    }
}
