using System.Diagnostics;
using OrleansDsm.Barriers;
using OrleansDsm.Locks;
using OrleansDsm.Pages;
using OrleansDsm.Regions;
using OrleansDsm.Testing;
using OrleansDsm.Tests.Processes;
using Xunit.Abstractions;

namespace OrleansDsm.Tests.Placement;

/// <summary>
/// With <c>Silo:Rebalance</c>, a silo that joins a cluster takes over part of the pages already active there, while
/// clients keep reading, caching and writing them: no call fails, no value is lost, and no cached copy outlives a write.
/// The grains that are not pages (regions, locks, barriers) stay where they started, and calls waiting inside pages
/// for a change do not keep them from moving.
/// </summary>
public sealed class RebalancingTests(ITestOutputHelper output)
{
    private const int Pages = 200;
    private const int LongsPerPage = 512;

    [Fact]
    public async Task A_joining_silo_takes_over_active_pages_while_every_value_and_cached_copy_stays_right()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var database = await postgres.CreateDatabaseAsync("rebalance");
        // Rebalancing starts 2 s after the first silo and moves as fast as Orleans allows, so that the test sees it soon.
        string[] arguments = ["--Silo:Storage=PostgreSQL", $"--Silo:ConnectionString={database}", "--Silo:Dashboard=false", "--Silo:Rebalance=true",
            "--Silo:Rebalancing:RebalancerDueTime=00:00:02", "--Silo:Rebalancing:SessionCyclePeriod=00:00:02", "--Silo:Rebalancing:CycleNumberWeight=1"];
        await using var first = await SiloProcess.StartAsync(arguments);
        Assert.Contains("rebalancing=on", first.Output);
        await using var writerClient = await first.ConnectAsync();
        await using var readerClient = await first.ConnectAsync();
        await using var waiterClient = await first.ConnectAsync();
        var writer = await writerClient.AllocateAsync<long>("rebalanced", Pages * LongsPerPage);
        var round = 1; // every page holds the round that last wrote it
        for (var page = 0; page < Pages; page++) await writer.SetAsync(page * LongsPerPage, round);
        var reader = await readerClient.OpenAsync<long>("rebalanced");
        for (var page = 0; page < Pages; page++) Assert.Equal(1, await reader.GetAsync(page * LongsPerPage)); // cached from here
        await (await writerClient.Lock("rebalanced-lock").AcquireAsync()).DisposeAsync();
        await writerClient.Barrier("rebalanced-barrier", 1).SignalAndWaitAsync(TimeSpan.FromSeconds(10));
        var management = writerClient.Grains.GetGrain<IManagementGrain>(0);
        var firstSilo = await WaitForSiloAsync(management, first.SiloPort);
        GrainReference[] unmoved =
        [
            (GrainReference)writerClient.Grains.GetGrain<IRegionDirectoryGrain>(0), (GrainReference)writerClient.Grains.GetGrain<IRegionGrain>(writer.Region.Epoch),
            (GrainReference)writerClient.Grains.GetGrain<ILockGrain>("rebalanced-lock"), (GrainReference)writerClient.Grains.GetGrain<IBarrierGrain>("rebalanced-barrier"),
        ];

        // A third client waits in every page, all along, for a change to a word nobody writes.
        using var stopWaiting = new CancellationTokenSource();
        var waiter = await waiterClient.OpenAsync<long>("rebalanced");
        var waits = Enumerable.Range(0, Pages).Select(page => WaitUntilStoppedAsync(waiter, page * LongsPerPage + 7, stopWaiting.Token)).ToArray();

        await using var second = await SiloProcess.StartAsync(arguments);
        var secondSilo = await WaitForSiloAsync(management, second.SiloPort);

        // Each round writes every page once and reads it back through the reader's cache, which must never show a
        // value older than the write acknowledged before the read began; between rounds, count the pages that moved.
        var moving = Stopwatch.StartNew();
        double moved;
        var slowestWrite = TimeSpan.Zero;
        while ((moved = await FractionOnAsync(management, writerClient, writer.Region.FirstPage, secondSilo)) < 0.25 && moving.Elapsed < TimeSpan.FromSeconds(90))
        {
            round++;
            for (var page = 0; page < Pages; page++)
            {
                var write = Stopwatch.StartNew();
                await writer.SetAsync(page * LongsPerPage, round);
                slowestWrite = write.Elapsed > slowestWrite ? write.Elapsed : slowestWrite;
                var seen = await reader.GetAsync(page * LongsPerPage);
                Assert.True(seen == round, $"page {page} read {seen} after the write of {round} returned, in round {round}");
            }
        }

        output.WriteLine($"{moved:P0} of the pages moved in {moving.Elapsed.TotalSeconds:0.0} s, {round - 1} rounds of writes; the slowest write took {slowestWrite.TotalMilliseconds:0} ms");
        Assert.True(moved >= 0.25, $"only {moved:P0} of the pages were on the joining silo after {moving.Elapsed.TotalSeconds:0} s");
        await stopWaiting.CancelAsync();
        Assert.All(await Task.WhenAll(waits), changed => Assert.False(changed)); // no wait saw a change, and none failed
        for (var page = 0; page < Pages; page++)
        {
            Assert.Equal(round, await reader.GetAsync(page * LongsPerPage));
            Assert.Equal(0, await reader.GetAsync(page * LongsPerPage + 1)); // an element never written is still zero
        }
        foreach (var grain in unmoved)
        {
            var address = await management.GetActivationAddress(grain);
            Assert.True(firstSilo.Equals(address), $"{grain.GrainId} is on {address?.ToString() ?? "no silo"}, not on the first silo {firstSilo}");
        }
    }

    [Fact]
    public async Task A_rebalancing_timing_Orleans_refuses_stops_the_silo_with_one_line_naming_it()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var database = await postgres.CreateDatabaseAsync("rebalance-timing");

        // Orleans wants at least two load reports (1 s apart) per cycle.
        var result = await BuiltPrograms.RunAsync(BuiltPrograms.Dotnet(BuiltPrograms.SiloDll,
            ["--Silo:Storage=PostgreSQL", $"--Silo:ConnectionString={database}", "--Silo:Dashboard=false", "--Silo:Rebalance=true",
             "--Silo:Rebalancing:SessionCyclePeriod=00:00:01", $"--Silo:SiloPort={LoopbackPorts.Free()}", $"--Silo:GatewayPort={LoopbackPorts.Free()}",
             $"--Silo:HttpPort={LoopbackPorts.Free()}"]), TimeSpan.FromSeconds(60));

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("orleans-dsm silo: ", line);
        Assert.Contains("SessionCyclePeriod", line);
    }

    /// <summary>Waits for a change to an element nobody writes until stopped; true if a wait ever saw one.</summary>
    private static async Task<bool> WaitUntilStoppedAsync(SharedArray<long> array, long index, CancellationToken stop)
    {
        try
        {
            while (true)
                if (await array.WaitForChangeAsync(index, 0, TimeSpan.FromSeconds(30), stop)) return true;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return false;
        }
    }

    private static async Task<SiloAddress> WaitForSiloAsync(IManagementGrain management, int siloPort)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            if ((await management.GetHosts(onlyActive: true)).Keys.FirstOrDefault(silo => silo.Endpoint.Port == siloPort) is { } silo) return silo;
            if (waited.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException($"the silo on port {siloPort} did not join within 60 s");
            await Task.Delay(200);
        }
    }

    /// <summary>The fraction of the region's pages whose activation is on <paramref name="silo"/>.</summary>
    private static async Task<double> FractionOnAsync(IManagementGrain management, DsmClient client, long firstPage, SiloAddress silo)
    {
        var on = 0;
        for (var page = 0; page < Pages; page++)
            if (silo.Equals(await management.GetActivationAddress(client.Grains.GetGrain<IPageGrain>(firstPage + page)))) on++;
        return (double)on / Pages;
    }
}
