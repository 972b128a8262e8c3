using Orleans.Core.Internal;
using Orleans.Runtime.Placement;
using OrleansDsm.Pages;
using OrleansDsm.Tests.Linearizability;
using OrleansDsm.Tests.Processes;
using Xunit.Abstractions;

namespace OrleansDsm.Tests.Placement;

/// <summary>
/// The linearizability run of three caching client processes on a two-silo cluster on PostgreSQL while every page of
/// the run is told again and again to move to the other silo (Orleans' migration, which the rebalancer uses). Orleans
/// hands a moving grain's persistent state to its next activation rather than have it read storage, so what the page
/// stores as it leaves is what arrives: the histories show that no acknowledged write is lost on the way, with
/// write-behind as well, and that no holder serves a copy older than one. (Made to skip its deactivation when
/// migrating, the page lost writes here with write-behind; made to skip only its revocations, holders served stale
/// copies.)
/// </summary>
public sealed class LinearizabilityWhilePagesMoveTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("00:00:00")] // every write stored before it is acknowledged
    [InlineData("00:00:01")] // write-behind: a page that moves stores its unstored writes as it goes
    public async Task Histories_stay_linearizable_while_pages_move_between_silos(string writeBehind)
    {
        await using var postgres = await PostgresServer.StartAsync();
        var database = await postgres.CreateDatabaseAsync("moving");
        string[] arguments = ["--Silo:Storage=PostgreSQL", $"--Silo:ConnectionString={database}", "--Silo:Dashboard=false", $"--Dsm:WriteBehind={writeBehind}"];
        await using var first = await SiloProcess.StartAsync(arguments);
        await using var second = await SiloProcess.StartAsync(arguments);

        var moves = 0;
        var homes = new Dictionary<long, SiloAddress>();
        var run = await HistoryRun.RunAsync($"{first.Gateway},{second.Gateway}", operationsPerTask: 150, disturb: async (orleans, region) =>
        {
            var management = orleans.GetGrain<IManagementGrain>(0);
            var silos = (await management.GetHosts(onlyActive: true)).Keys.ToArray();
            for (var page = region.FirstPage; page < region.FirstPage + region.PageCount; page++)
            {
                var grain = orleans.GetGrain<IPageGrain>(page);
                if (await management.GetActivationAddress(grain) is not { } home) continue;
                // A move is counted when it is seen: the page is somewhere else than where it was told to leave.
                if (homes.TryGetValue(page, out var before) && !before.Equals(home)) moves++;
                homes[page] = home;
                // The hint names where the page goes; without it, placement often picks the silo it is on.
                RequestContext.Set(IPlacementDirector.PlacementHintKey, silos.First(silo => !silo.Equals(home)));
                try
                {
                    await grain.Cast<IGrainManagementExtension>().MigrateOnIdle();
                }
                finally
                {
                    RequestContext.Remove(IPlacementDirector.PlacementHintKey);
                }
            }
        });

        output.WriteLine($"{run.History.Count} operations; pages were seen to move {moves} times in {run.Disturbances} rounds of moving them");
        Assert.True(run.ExitCodes.All(code => code == 0), run.Output);
        Assert.Equal(3 * HistoryRun.TasksPerProcess * 150, run.History.Count);
        Assert.True(moves >= 20, $"pages were seen to move only {moves} times in {run.Disturbances} rounds");
        var violations = run.Violations();
        Assert.True(violations is null, violations);
    }
}
