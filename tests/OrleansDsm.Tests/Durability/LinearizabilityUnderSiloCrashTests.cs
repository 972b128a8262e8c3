using OrleansDsm.Tests.Linearizability;
using Xunit.Abstractions;
using OrleansDsm.Tests.Processes;

namespace OrleansDsm.Tests.Durability;

/// <summary>
/// The linearizability run of three caching client processes on a two-silo cluster on PostgreSQL, where one silo is
/// killed with SIGKILL mid-run: its pages come back on the survivor, clients retry what failed through the other
/// gateway, and the recorded histories must still be linearizable.
/// </summary>
public sealed class LinearizabilityUnderSiloCrashTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Histories_stay_linearizable_when_a_silo_is_killed_mid_run()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var database = await postgres.CreateDatabaseAsync("linearizable");
        string[] arguments =
        [
            "--Silo:Storage=PostgreSQL", $"--Silo:ConnectionString={database}", "--Silo:Dashboard=false", "--Dsm:CacheLease=00:00:03",
            "--Silo:Membership:ProbeTimeout=00:00:01", "--Silo:Membership:NumMissedProbesLimit=2",
        ];
        var doomed = await SiloProcess.StartAsync(arguments);
        await using var survivor = await SiloProcess.StartAsync(arguments);

        // Clients use both gateways, so pages are placed on both silos (Orleans places an activation near the gateway that asked).
        var run = await HistoryRun.RunAsync($"{doomed.Gateway},{survivor.Gateway}", operationsPerTask: 150, (100, async _ => await doomed.DisposeAsync()));

        Assert.True(run.ExitCodes.All(code => code == 0), run.Output);
        Assert.True(run.History.Count >= 3 * HistoryRun.TasksPerProcess * 150 * 9 / 10, $"{run.History.Count} operations recorded\n{run.Output}");
        // Placement decides whether the killed silo held pages of this run (usually it did); the run says how many
        // operations the kill held up, so a reader can tell.
        var heldUp = run.History.Count(op => !op.Pending && op.Returned - op.Called > System.Diagnostics.Stopwatch.Frequency);
        output.WriteLine($"{run.History.Count} operations, {heldUp} took over a second, {run.History.Count(op => op.Pending)} without outcome");
        var violations = run.Violations();
        Assert.True(violations is null, violations);
    }
}
