using System.Diagnostics;
using OrleansDsm.Connection;
using OrleansDsm.Tests.Processes;

namespace OrleansDsm.Tests.Durability;

/// <summary>
/// A silo killed with SIGKILL takes the answers to the calls in flight through its gateway with it. The client notices
/// the lost connection and sends those calls again at once, so they come back within the failover time, not the
/// response timeout.
/// </summary>
public sealed class GatewayLossTests
{
    // Far longer than failover takes with the probing below (about 3 s), so a call that waited it out fails the test.
    private static readonly TimeSpan ResponseTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Calls_in_flight_when_a_silo_is_killed_come_back_long_before_the_response_timeout()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var database = await postgres.CreateDatabaseAsync("gatewayloss");
        string[] arguments = ["--Silo:Storage=PostgreSQL", $"--Silo:ConnectionString={database}", "--Silo:Dashboard=false",
            "--Silo:Membership:ProbeTimeout=00:00:01", "--Silo:Membership:NumMissedProbesLimit=2"];
        var doomed = await SiloProcess.StartAsync(arguments);
        await using var survivor = await SiloProcess.StartAsync(arguments);
        await using var client = await DsmClient.ConnectAsync(new DsmClientOptions
        {
            Gateways = [doomed.Gateway, survivor.Gateway], ResponseTimeout = ResponseTimeout, RetryBudget = 2 * ResponseTimeout,
            ConnectTimeout = TimeSpan.FromSeconds(30),
        });

        // Pages on both silos, each reached through one of the two gateways; a wait on each, in flight at the kill.
        const int pages = 16;
        var array = await client.AllocateAsync<long>("gatewayloss", pages * 512L, Consistency.Uncached);
        await Task.WhenAll(Enumerable.Range(0, pages).Select(page => array.SetAsync(page * 512L, 1)));
        var waits = Enumerable.Range(0, pages).Select(page => array.WaitForChangeAsync(page * 512L, 1, TimeSpan.FromMinutes(5))).ToArray();
        await Task.Delay(500);
        Assert.DoesNotContain(waits, wait => wait.IsCompleted);

        await doomed.DisposeAsync();
        var killed = Stopwatch.StartNew();
        var writes = Task.WhenAll(Enumerable.Range(0, pages).Select(page => array.SetAsync(page * 512L, 2)));
        await Task.WhenAny(Task.WhenAll(writes, Task.WhenAll(waits)), Task.Delay(ResponseTimeout / 3));

        var waiting = waits.Count(wait => !wait.IsCompleted);
        Assert.True(writes.IsCompletedSuccessfully && waiting == 0,
            $"{killed.Elapsed.TotalSeconds:0.0} s after the kill, the writes sent after it were {(writes.IsCompleted ? "" : "not ")}done and {waiting} of the {pages} waits in flight at it had not returned");
        Assert.All(waits, wait => Assert.True(wait.Result));
    }
}
