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
