using OrleansDsm.Mapping;

namespace OrleansDsm.TestWorker;

/// <summary>A process that maps a region, for the tests whose outcome is the fate of the mapping process itself.</summary>
internal static class MapWorkload
{
    /// <summary>
    /// Maps <paramref name="region"/>, says "mapped", waits for a line on standard input, then loads byte 0 of
    /// <paramref name="page"/> and prints it: if the pager cannot fetch the page, this process never prints.
    /// </summary>
    public static async Task TouchAsync(DsmClient client, string region, long page, TimeSpan faultTimeout)
    {
        var array = await client.OpenAsync<byte>(region);
        await using var mapped = await array.MapAsync(new MappingOptions { FaultTimeout = faultTimeout });
        Console.WriteLine("mapped");
        Console.ReadLine();
        var value = mapped.GetSpan(page * array.Region.PageSize, 1)[0];
        Console.WriteLine($"value {value}");
    }

    /// <summary>
    /// Maps <paramref name="region"/> <paramref name="rounds"/> times with the most read-ahead, each time touching its
    /// first two pages, which sends the pager fetching the next 256, and unmapping at once, while those are in flight;
    /// prints "done" when all rounds are over. The pager must drop what arrives for a mapping that is gone.
    /// </summary>
    public static async Task MapAndUnmapAsync(DsmClient client, string region, int rounds)
    {
        var array = await client.OpenAsync<byte>(region);
        var sum = 0L;
        for (var round = 0; round < rounds; round++)
        {
            await using var mapped = await array.MapAsync(new MappingOptions { ReadAheadPages = 256 });
            sum += mapped.GetSpan(0, 1)[0] + mapped.GetSpan(array.Region.PageSize, 1)[0];
        }
        Console.WriteLine($"done {sum}");
    }

    /// <summary>
    /// Maps <paramref name="region"/> with the most read-ahead, touches its first two pages, which sends the pager
    /// fetching the next ones, says "touched", waits for a line on standard input, then prints how many pages read ahead
    /// arrived, and loads page 0 again: a fetch ahead that fails has no thread waiting for it, so this process lives on.
    /// </summary>
    public static async Task ReadAheadThenWaitAsync(DsmClient client, string region, TimeSpan faultTimeout)
    {
        var array = await client.OpenAsync<byte>(region);
        await using var mapped = await array.MapAsync(new MappingOptions { ReadAheadPages = 256, FaultTimeout = faultTimeout });
        var sum = mapped.GetSpan(0, 1)[0] + mapped.GetSpan(array.Region.PageSize, 1)[0];
        Console.WriteLine("touched");
        Console.ReadLine();
        var statistics = await mapped.GetStatisticsAsync();
        Console.WriteLine($"ahead {statistics.ReadAheadPages} sum {sum + mapped.GetSpan(0, 1)[0]}");
    }

    /// <summary>
    /// Maps <paramref name="region"/>, loads byte 0, unmaps it, says "unmapped", waits for a line on standard input
    /// (the test kills the pager meanwhile), then says "alive": with no mapping left, the pager's death ends nothing.
    /// </summary>
    public static async Task MapThenIdleAsync(DsmClient client, string region)
    {
        var array = await client.OpenAsync<byte>(region);
        await using (var mapped = await array.MapAsync()) Console.WriteLine($"value {mapped.GetSpan(0, 1)[0]}");
        Console.WriteLine("unmapped");
        Console.ReadLine();
        Console.WriteLine("alive");
    }

    /// <summary>Tries to map <paramref name="region"/>: exit code 4 and the error's message on standard error when it is refused.</summary>
    public static async Task<int> TryMapAsync(DsmClient client, string region)
    {
        var array = await client.OpenAsync<byte>(region);
        try
        {
            await using var mapped = await array.MapAsync();
            Console.WriteLine("mapped");
            return 0;
        }
        catch (NotSupportedException error)
        {
            Console.Error.WriteLine(error.Message);
            return 4;
        }
    }
}
