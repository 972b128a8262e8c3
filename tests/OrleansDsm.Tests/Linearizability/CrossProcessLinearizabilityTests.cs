using OrleansDsm.Tests.Processes;

namespace OrleansDsm.Tests.Linearizability;

/// <summary>
/// Three client processes run concurrent reads, writes, adds, exchanges and compare-exchanges on shared cells of the
/// real silo while every idle activation, pages included, is collected again and again (<see cref="HistoryRun"/>).
/// Every worker caches the pages it reads. The recorded histories must be linearizable, including when one client
/// process is killed mid-run, and on an Uncached region, whose gets and sets take the direct channel; and the same run
/// against a silo whose pages skip invalidation must be caught.
/// </summary>
public sealed class CrossProcessLinearizabilityTests(SiloProcessFixture fixture) : IClassFixture<SiloProcessFixture>
{
    [Fact]
    public async Task Histories_from_three_processes_are_linearizable_while_pages_deactivate()
    {
        var run = await HistoryRun.RunAsync(fixture.Silo.Gateway, operationsPerTask: 1000);

        Assert.True(run.ExitCodes.All(code => code == 0), run.Output);
        Assert.Equal(3 * HistoryRun.TasksPerProcess * 1000, run.History.Count);
        Assert.True(run.Disturbances > 0, "activations should have been collected during the run");
        var violations = run.Violations();
        Assert.True(violations is null, violations);
    }

    [Fact]
    public async Task Histories_stay_linearizable_when_a_client_process_is_killed_mid_run()
    {
        var run = await HistoryRun.RunAsync(fixture.Silo.Gateway, operationsPerTask: 1000, (300, workers =>
        {
            workers[0].Kill(entireProcessTree: true);
            return Task.CompletedTask;
        }));

        Assert.NotEqual(0, run.ExitCodes[0]);
        Assert.True(run.ExitCodes[1] == 0 && run.ExitCodes[2] == 0, run.Output);
        var killedProcessOperations = run.History.Count(op => op.Id / 100_000 / 1000 == 0);
        Assert.InRange(killedProcessOperations, 150, HistoryRun.TasksPerProcess * 1000 - 1);
        var violations = run.Violations();
        Assert.True(violations is null, violations);
    }

    [Fact]
    public async Task Histories_of_an_Uncached_region_stay_linearizable_through_the_direct_channel_while_pages_deactivate_and_a_client_is_killed()
    {
        // Gets, sets, adds, exchanges and compare-exchanges take the direct channel when they find it open, and Orleans
        // calls otherwise (a connection that broke with the killed worker's, a page that cannot serve it), on the same cells.
        // Channel operations are quick: with 300 a task and the kill at 250 lines, worker 0 once finished before the kill.
        var run = await HistoryRun.RunAsync(fixture.Silo.Gateway, operationsPerTask: 1000, (100, workers =>
        {
            workers[0].Kill(entireProcessTree: true);
            return Task.CompletedTask;
        }), consistency: Consistency.Uncached);

        Assert.NotEqual(0, run.ExitCodes[0]);
        Assert.True(run.ExitCodes[1] == 0 && run.ExitCodes[2] == 0, run.Output);
        Assert.True(run.Disturbances > 0, "activations should have been collected during the run");
        // The surviving workers made 2 x 4 x 1000 operations, each on the channel when it found it open (gets and sets
        // alone once numbered 690 and 770 of 2 x 4 x 300): a channel that never served would show none.
        Assert.True(run.DirectServed >= 100, $"the direct channel served only {run.DirectServed} operations");
        var violations = run.Violations();
        Assert.True(violations is null, violations);
    }

    [Fact]
    public async Task The_checker_finds_violations_when_pages_skip_invalidation()
    {
        await using var broken = await SiloProcess.StartAsync("--Dsm:SkipInvalidationForCheckerTests=true");

        var run = await HistoryRun.RunAsync(broken.Gateway, operationsPerTask: 150);

        Assert.True(run.ExitCodes.All(code => code == 0), run.Output);
        Assert.NotEmpty(LinearizabilityChecker.ViolatingCells(run.History));
    }
}
