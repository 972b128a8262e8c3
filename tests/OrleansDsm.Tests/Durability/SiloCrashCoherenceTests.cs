using System.Diagnostics;
using OrleansDsm.Connection;
using OrleansDsm.Tests.Processes;

namespace OrleansDsm.Tests.Durability;

/// <summary>
/// A silo killed with SIGKILL takes its record of which clients cache its pages with it. Its pages come back on
/// another silo, and must not apply a write while any copy the dead silo handed out can still be served.
/// </summary>
public sealed class SiloCrashCoherenceTests
{
    // Longer than the survivor takes to declare the dead silo dead (about 2 s with the probing below), so copies the
    // dead silo handed out are still valid when its pages come back.
    private static readonly TimeSpan CacheLease = TimeSpan.FromSeconds(8);

    [Theory]
    [InlineData("Default")]
    [InlineData("StronglyConsistent")]
    public async Task Pages_reactivated_after_a_crash_wait_out_the_leases_their_dead_silo_granted(string directory)
    {
        await using var postgres = await PostgresServer.StartAsync();
        var database = await postgres.CreateDatabaseAsync("crash");
        string[] arguments = ["--Silo:Storage=PostgreSQL", $"--Silo:ConnectionString={database}", "--Silo:Dashboard=false", $"--Dsm:CacheLease={CacheLease}",
            "--Silo:Membership:ProbeTimeout=00:00:01", "--Silo:Membership:NumMissedProbesLimit=2", $"--Silo:Directory={directory}"];
        var doomed = await SiloProcess.StartAsync(arguments);
        await using var survivor = await SiloProcess.StartAsync(arguments);
        await using var writerClient = await survivor.ConnectAsync();
        await using var readerClient = await survivor.ConnectAsync();

        // 32 pages, spread over both silos: the first 16 written, the other 16 never written (zeros).
        const int pages = 32;
        var writer = await writerClient.AllocateAsync<long>("crash", pages * 512L);
        for (var page = 0; page < pages / 2; page++) await writer.SetAsync(page * 512L, 1);
        var reader = await readerClient.OpenAsync<long>("crash");
        for (var page = 0; page < pages; page++) Assert.Equal(page < pages / 2 ? 1 : 0, await reader.GetAsync(page * 512L));

        await doomed.DisposeAsync();
        var killed = Stopwatch.StartNew();
        var stale = await Task.WhenAll(Enumerable.Range(0, pages).Select(async page =>
        {
            await WithRetriesAsync(() => writer.SetAsync(page * 512L, 2));
            var seen = await WithRetriesAsync(() => reader.GetAsync(page * 512L).AsTask());
            return seen == 2 ? null : $"page {page} read {seen} after the write of 2 returned ({killed.Elapsed.TotalSeconds:0.0} s after the kill)";
        }));

        Assert.Equal([], stale.OfType<string>());
    }


    /// <summary>Retries a call that fails while the cluster notices the dead silo, for at most a minute.</summary>
    private static async Task<T> WithRetriesAsync<T>(Func<Task<T>> call)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception) when (deadline.Elapsed < TimeSpan.FromMinutes(1))
            {
                await Task.Delay(200);
            }
        }
    }

    private static Task WithRetriesAsync(Func<Task> call) => WithRetriesAsync(async () =>
    {
        await call();
        return 0;
    });
}
