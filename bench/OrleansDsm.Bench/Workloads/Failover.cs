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
/// default response timeout (10 s), longer than the whole bound. A client without the direct channel places the pages
/// first, writing through both gateways (a page activates beside the gateway its first call came through); the client
/// measured has the channel, whose silo would otherwise have placed every page, leaving the other nothing to fail over
/// in half the runs. A run whose killed silo hosted no page measures nothing and is made again.
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
        var hosted = new List<int>();
        var survivor = await BenchSiloProcess.StartAsync(targets.Database, cluster, ProbeTimeout, MissedProbes, CacheLease);
        try
        {
            for (var run = 0; times.Count < context.Runs && run < 2 * context.Runs; run++)
            {
                await using var doomed = await BenchSiloProcess.StartAsync(targets.Database, cluster, ProbeTimeout, MissedProbes, CacheLease);
                DsmClientOptions Options(bool directChannel) => new()
                {
                    Gateways = [survivor.Gateway, doomed.Gateway], ClusterId = cluster, ServiceId = cluster,
                    RetryInterval = RetryInterval, RetryBudget = TimeSpan.FromSeconds(60), DirectChannel = directChannel,
                };
                await using var client = await DsmClient.ConnectAsync(Options(directChannel: true));
                var array = await client.AllocateAsync<long>($"failover-{run}", Pages * 512L, Consistency.Uncached);
                int onDoomed;
                await using (var placer = await DsmClient.ConnectAsync(Options(directChannel: false)))
                {
                    var placed = await placer.OpenAsync<long>(array.Name);
                    await Task.WhenAll(Enumerable.Range(0, Pages).Select(page => placed.SetAsync(page * 512L, 1)));
                    onDoomed = (await placer.StatAsync(array.Name)).PagesBySilo
                        .Where(silo => silo.Key.Contains($":{doomed.SiloPort}:", StringComparison.Ordinal)).Sum(silo => silo.Value);
                }
                if (onDoomed == 0)
                {
                    await client.FreeAsync(array.Name);
                    continue;
                }

                var killed = Stopwatch.GetTimestamp();
                doomed.Kill();
                var done = await Task.WhenAll(Enumerable.Range(0, Pages).Select(async page =>
                {
                    await array.SetAsync(page * 512L + 1, 2);
                    return Stopwatch.GetElapsedTime(killed).TotalSeconds;
                }));
                times.Add(done.Max());
                hosted.Add(onDoomed);
                // Sent at once, perhaps through the killed silo's gateway before the client knows it is gone: a free
                // whose answer does not come is sent again.
                await client.FreeAsync(array.Name);
            }
        }
        finally
        {
            await survivor.DisposeAsync();
        }
        if (times.Count == 0)
        {
            Console.Error.WriteLine($"bench: in {2 * context.Runs} tries the silo to kill never hosted a page, so no failover figure");
            return;
        }
        var bound = Detection + CacheLease + RetryInterval;
        var conditions = $"storage=PostgreSQL 15, batched page store; silos=2 (processes on loopback), one killed with SIGKILL; activations=warm ({Pages} written pages on both, {hosted.Min()} to {hosted.Max()} of them on the killed silo) before the kill, the dead silo's pages activated afresh on the survivor within the figure; " +
                         $"Silo:Membership:ProbeTimeout={ProbeTimeout.TotalSeconds} s, NumMissedProbesLimit={MissedProbes}, Dsm:CacheLease={CacheLease.TotalSeconds} s, " +
                         $"client RetryInterval={RetryInterval.TotalMilliseconds} ms and ResponseTimeout={new DsmClientOptions().ResponseTimeout.TotalSeconds} s (the default); slowest page; {times.Count} runs, median";
        context.Report.Add("dsm.failover.kill_to_every_page_written", Stats.Median(times), "s", conditions);
        context.Report.Add("dsm.failover.bound", bound.TotalSeconds, "s", "computed from the configuration, not measured: failure detection ((missed probes + 1) x probe timeout) + cache lease + retry interval, as configured for the failover figure (storage=PostgreSQL 15, silos=2, activations=as there)");
    }
}
