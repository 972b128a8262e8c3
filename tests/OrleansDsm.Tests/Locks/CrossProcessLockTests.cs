using System.Diagnostics;
using OrleansDsm.Tests.Processes;

namespace OrleansDsm.Tests.Locks;

/// <summary>
/// The named lock across client processes of the real silo: it excludes three processes from each other's
/// read-modify-write, and a holder killed with SIGKILL frees it within its lease.
/// </summary>
public sealed class CrossProcessLockTests(SiloProcessFixture fixture) : IClassFixture<SiloProcessFixture>
{
    [Fact]
    public async Task Three_processes_incrementing_under_the_lock_lose_no_update()
    {
        var region = UniqueNames.For("locked-counter");
        var lockName = UniqueNames.For("counter-lock");
        Assert.Equal(0, (await fixture.Dsm("alloc", region, "--type", "int64", "--length", "8")).ExitCode);
        const int perProcess = 40;

        var results = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => BuiltPrograms.RunAsync(
            BuiltPrograms.Dotnet(BuiltPrograms.WorkerDll, ["lock-count", fixture.Silo.Gateway, "dsm", "orleans-dsm", region, lockName, $"{perProcess}"]),
            TimeSpan.FromSeconds(180))));

        Assert.All(results, result => Assert.True(result.ExitCode == 0, result.Stderr));
        Assert.Equal($"{3 * perProcess}", (await fixture.Dsm("get", region, "0")).Stdout);
    }

    [Fact]
    public async Task A_killed_holder_frees_the_lock_within_its_lease()
    {
        var lease = TimeSpan.FromSeconds(1);
        var lockName = UniqueNames.For("orphaned");
        using var holder = Process.Start(BuiltPrograms.Dotnet(BuiltPrograms.WorkerDll,
            ["lock-hold", fixture.Silo.Gateway, "dsm", "orleans-dsm", lockName, lease.ToString()]))!;
        try
        {
            var line = await holder.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.StartsWith("holding", line);
            await using var client = await fixture.Silo.ConnectAsync();
            var shared = client.Lock(lockName, lease);
            // Held and renewed: not free after more than three leases.
            Assert.Null(await shared.TryAcquireAsync(lease * 3.5));

            holder.Kill(entireProcessTree: true);
            var killed = Stopwatch.StartNew();
            await using var taken = await shared.TryAcquireAsync(TimeSpan.FromSeconds(10));

            Assert.NotNull(taken);
            Assert.InRange(killed.Elapsed, TimeSpan.Zero, lease + TimeSpan.FromSeconds(1.5));
        }
        finally
        {
            if (!holder.HasExited) holder.Kill(entireProcessTree: true);
        }
    }
}
