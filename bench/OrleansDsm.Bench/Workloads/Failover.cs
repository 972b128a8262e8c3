using System.Diagnostics;
using OrleansDsm.Bench.Harness;
using OrleansDsm.Connection;
using OrleansDsm.Regions;

namespace OrleansDsm.Bench.Workloads;

/// <summary>
/// Failover on PostgreSQL: two silo processes share 64 written pages; one is killed with SIGKILL, and the figure is
/// the time from the kill until a write has succeeded on every page, those it hosted included. The bound to meet is
/// the configured failure detection plus one cache lease plus one retry interval. Orleans probes each silo once per
/// probe timeout and declares it dead after that many missed probes in a row; the kill can land just after a
/// successful probe, so detection takes up to (missed probes + 1) x probe timeout. A call already sent through the killed
/// silo's gateway gets no answer; the client sends it again when it loses that gateway's connection, so it keeps its
/// default response timeout (10 s), longer than the whole bound.
/// </summary>
public static class Failover
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(1);
    private const int MissedProbes = 2;
    private static readonly TimeSpan CacheLease = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(200);
    private const int Pages = 64;
    private static readonly TimeSpan Detection = ProbeTimeout * (MissedProbes + 1);

    public static async Task RunAsync(BenchContext context)
    {
        if (context.Durable is not { } targets)
        {
            Console.Error.WriteLine("bench: no PostgreSQL, so no failover figure");
            return;
        }
        var cluster = $"bench-failover-{Guid.NewGuid():N}"[..24];
        var times = new List<double>();
        var survivor = await BenchSiloProcess.StartAsync(targets.Database, cluster, ProbeTimeout, MissedProbes, CacheLease);
        try
        {
            for (var run = 0; run < context.Runs; run++)
            {
                await using var doomed = await BenchSiloProcess.StartAsync(targets.Database, cluster, ProbeTimeout, MissedProbes, CacheLease);
                await using var client = await DsmClient.ConnectAsync(new DsmClientOptions
                {
                    Gateways = [survivor.Gateway, doomed.Gateway], ClusterId = cluster, ServiceId = cluster,
                    RetryInterval = RetryInterval, RetryBudget = TimeSpan.FromSeconds(60),
                });
                var array = await client.AllocateAsync<long>($"failover-{run}", Pages * 512L, Consistency.Uncached);
                // Writes through both gateways place pages on both silos (Orleans activates a grain near its caller).
                await Task.WhenAll(Enumerable.Range(0, Pages).Select(page => array.SetAsync(page * 512L, 1)));

                var killed = Stopwatch.GetTimestamp();
                doomed.Kill();
                var done = await Task.WhenAll(Enumerable.Range(0, Pages).Select(async page =>
                {
                    await array.SetAsync(page * 512L + 1, 2);
                    return Stopwatch.GetElapsedTime(killed).TotalSeconds;
                }));
                times.Add(done.Max());
                await client.FreeAsync(array.Name);
            }
        }
        finally
        {
            await survivor.DisposeAsync();
        }
        var bound = Detection + CacheLease + RetryInterval;
        var conditions = $"storage=PostgreSQL 15, batched page store; silos=2 (processes on loopback), one killed with SIGKILL; activations=warm ({Pages} written pages on both) before the kill, the dead silo's pages activated afresh on the survivor within the figure; " +
                         $"Silo:Membership:ProbeTimeout={ProbeTimeout.TotalSeconds} s, NumMissedProbesLimit={MissedProbes}, Dsm:CacheLease={CacheLease.TotalSeconds} s, " +
                         $"client RetryInterval={RetryInterval.TotalMilliseconds} ms and ResponseTimeout={new DsmClientOptions().ResponseTimeout.TotalSeconds} s (the default); slowest page; {context.Runs} runs, median";
        context.Report.Add("dsm.failover.kill_to_every_page_written", Stats.Median(times), "s", conditions);
        context.Report.Add("dsm.failover.bound", bound.TotalSeconds, "s", "computed from the configuration, not measured: failure detection ((missed probes + 1) x probe timeout) + cache lease + retry interval, as configured for the failover figure (storage=PostgreSQL 15, silos=2, activations=as there)");
    }
}
