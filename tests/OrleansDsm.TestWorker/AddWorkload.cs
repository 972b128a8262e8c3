namespace OrleansDsm.TestWorker;

/// <summary>Adds 1 to one int64 element <c>count</c> times from <c>concurrency</c> tasks.</summary>
public static class AddWorkload
{
    public static async Task RunAsync(DsmClient client, string region, long index, int count, int concurrency)
    {
        var array = await client.OpenAsync<long>(region);
        var remaining = count;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Interlocked.Decrement(ref remaining) >= 0) await array.AddAsync(index, 1);
        }));
        Console.WriteLine($"added {count}");
    }
}
