using System.Diagnostics;

namespace OrleansDsm.Tests.Processes;

/// <summary>A waiter in this process is woken by a write from another process (the dsm tool), long before its timeout.</summary>
[Collection(SiloProcessCollection.Name)]
public sealed class CrossProcessWaitTests(SiloProcessFixture fixture)
{
    [Fact]
    public async Task A_write_from_another_process_wakes_the_waiter()
    {
        var name = UniqueNames.For("wake");
        Assert.Equal(0, (await fixture.Dsm("alloc", name, "--type", "int64", "--length", "8")).ExitCode);
        await using var client = await fixture.Silo.ConnectAsync();
        var array = await client.OpenAsync<long>(name);

        var waiting = array.WaitForChangeAsync(3, 0, TimeSpan.FromSeconds(60));
        await Task.Delay(500);
        Assert.False(waiting.IsCompleted);
        var set = await fixture.Dsm("set", name, "3", "42");
        var woken = Stopwatch.StartNew();

        Assert.Equal(0, set.ExitCode);
        Assert.True(await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.InRange(woken.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Assert.Equal(42, await array.GetAsync(3));
    }
}
