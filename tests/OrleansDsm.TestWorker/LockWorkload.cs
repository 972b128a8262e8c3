namespace OrleansDsm.TestWorker;

/// <summary>
/// Under the named lock, <c>count</c> times: reads element 0, then writes it back plus one, a read-modify-write that
/// loses updates unless the lock excludes every other process. With <c>hold</c>, takes the lock, says so, and keeps
/// it until killed.
/// </summary>
public static class LockWorkload
{
    public static async Task CountAsync(DsmClient client, string region, string lockName, int count)
    {
        var array = await client.OpenAsync<long>(region);
        var shared = client.Lock(lockName);
        for (var i = 0; i < count; i++)
        {
            await using var hold = await shared.AcquireAsync();
            var guarded = array.Fenced(hold);
            var seen = await guarded.GetAsync(0);
            await guarded.SetAsync(0, seen + 1);
        }
        Console.WriteLine($"counted {count}");
    }

    public static async Task HoldAsync(DsmClient client, string lockName, TimeSpan lease)
    {
        var hold = await client.Lock(lockName, lease).AcquireAsync();
        Console.WriteLine($"holding {hold.Token}");
        await Task.Delay(Timeout.InfiniteTimeSpan);
    }
}
