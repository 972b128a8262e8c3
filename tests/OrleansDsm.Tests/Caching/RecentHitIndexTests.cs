namespace OrleansDsm.Tests.Caching;

/// <summary>
/// The indexer's fast path: a handle's own index of recent hits, one slot per page modulo its size, which threads of the
/// handle refill as they read, while other threads read the same slots.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class RecentHitIndexTests(ClusterFixture fixture)
{
    // The index holds 1,024 slots at most, so pages 1,024 apart share one.
    private const int Pages = 1280;
    private const int ElementsPerPage = 1024; // 4 KiB of int32

    [Fact]
    public async Task Threads_that_read_pages_sharing_slots_of_the_index_each_get_their_own_pages_values()
    {
        var array = await fixture.Client.AllocateAsync<int>(UniqueNames.For("recent-hits"), (long)Pages * ElementsPerPage);
        var values = Enumerable.Range(0, Pages * ElementsPerPage).ToArray();
        await array.WriteAsync(0, values);
        for (var page = 0; page < Pages; page++) Assert.Equal(page * ElementsPerPage, array[page * ElementsPerPage]);

        // Four threads read at random from the first 256 pages and the 256 that share their slots, so each read may find
        // its slot just refilled by another thread with the other page's copy.
        var wrong = 0L;
        var threads = Enumerable.Range(0, 4).Select(seed => new Thread(() =>
        {
            var random = new Random(seed);
            for (var read = 0; read < 200_000; read++)
            {
                var page = random.Next(256) + (random.Next(2) == 0 ? 0 : 1024);
                var index = page * ElementsPerPage + random.Next(ElementsPerPage);
                if (array[index] != index) Interlocked.Increment(ref wrong);
            }
        })).ToList();
        threads.ForEach(thread => thread.Start());
        threads.ForEach(thread => thread.Join());

        Assert.Equal(0, wrong);
    }
}
