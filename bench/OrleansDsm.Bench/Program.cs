// The benchmark: "silo SILO_PORT GATEWAY_PORT" hosts the bench silo ("... CLUSTER PRIMARY_PORT|- None|Repartition|Rebalance"
// one of a two-silo cluster, with activations moved by neither, repartitioning or rebalancing); "client GATEWAY [--quick] --command TEXT"
// runs every workload against it and writes bench/results/latest.json and bench/RESULTS.md. bench/run.sh runs both.
// "--durable BATCHED_GATEWAY ADONET_GATEWAY CONNECTION PGBENCH" adds the PostgreSQL figures; "--redis HOST:PORT" the Redis ones;
// "--silo-process PID" names the bench silo's process, whose processor time some workloads read.
// "--only NAME" runs one workload (ElementLatency, ReadMostlyMix, ...) and only prints its figures: for tuning.
// "zipf-client GATEWAY STRICT UNCACHED" is one client process of the ReadMostlyMixProcesses workload, which starts it.
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using OrleansDsm;
using OrleansDsm.Bench.Baseline;
using OrleansDsm.Bench.Harness;
using OrleansDsm.Bench.Hosting;
using OrleansDsm.Hosting;
using OrleansDsm.Bench.Workloads;

switch (args)
{
    case ["silo", var siloPort, var gatewayPort]:
        return await BenchSilo.RunAsync(int.Parse(siloPort), int.Parse(gatewayPort));
    case ["silo", var siloPort, var gatewayPort, var cluster, var primary, var moves, var pagePlacement]:
        // A silo of a two-silo cluster of the placement and join workloads: PRIMARY is "-" for the first.
        return await BenchSilo.RunAsync(int.Parse(siloPort), int.Parse(gatewayPort), cluster, primary == "-" ? null : int.Parse(primary), Enum.Parse<ActivationMoves>(moves), pagePlacement);
    case ["zipf-client", var gateway, var strict, var uncached]:
        return await ZipfClientProcess.RunAsync(gateway, strict, uncached);
    case ["client", var gateway, .. var rest]:
        var quick = rest.Contains("--quick");
        var command = rest.SkipWhile(a => a != "--command").Skip(1).FirstOrDefault() ?? "bench/run.sh";
        var only = rest.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault();
        var durable = rest.SkipWhile(a => a != "--durable").Skip(1).Take(5).ToArray() is [var batched, var adoNet, var database, var pgbench, var batchedSilo]
            ? new DurableTargets(batched, adoNet, database, pgbench, int.Parse(batchedSilo, System.Globalization.CultureInfo.InvariantCulture))
            : null;
        var redis = rest.SkipWhile(a => a != "--redis").Skip(1).FirstOrDefault() is { } redisEndpoint ? new RedisPeer(redisEndpoint) : null;
        var siloProcess = rest.SkipWhile(a => a != "--silo-process").Skip(1).FirstOrDefault() is { } siloId
            ? int.Parse(siloId, System.Globalization.CultureInfo.InvariantCulture)
            : (int?)null;
        using (var host = OrleansDsm.Bench.Hosting.BenchClientHost.Build(gateway))
        {
            await host.StartAsync();
            var orleans = host.Services.GetRequiredService<IClusterClient>();
            var context = new BenchContext(host.Services.GetRequiredService<DsmClient>(), orleans, new Report(command, quick), quick, durable, gateway, redis, siloProcess);
            var workloads = new (string Name, Func<BenchContext, Task> Run)[]
            {
                (nameof(ElementLatency), ElementLatency.RunAsync),
                (nameof(ElementThroughput), ElementThroughput.RunAsync),
                (nameof(BulkCopy), BulkCopy.RunAsync),
                (nameof(HotAtomicAdd), HotAtomicAdd.RunAsync),
                (nameof(ResidentPageMemory), ResidentPageMemory.RunAsync),
                (nameof(ReadMostlyMix), ReadMostlyMix.RunAsync),
                (nameof(ReadMostlyMixProcesses), ReadMostlyMixProcesses.RunAsync),
                (nameof(CoherenceCosts), CoherenceCosts.RunAsync),
                (nameof(TlsChannel), TlsChannel.RunAsync),
                (nameof(CachedReads), CachedReads.RunAsync),
                (nameof(LockRoundTrip), LockRoundTrip.RunAsync),
                (nameof(JacobiSample), JacobiSample.RunAsync),
                (nameof(MappedMemory), MappedMemory.RunAsync),
                (nameof(PageSizeSweep), PageSizeSweep.RunAsync),
                (nameof(JacobiPlacement), JacobiPlacement.RunAsync),
                (nameof(SiloJoin), SiloJoin.RunAsync),
                // The memory goal is a silo holding 100,000 pages: measured before the durable workload, whose
                // pages would otherwise still be active in the same silo (their idle timeout is 2 minutes).
                (nameof(PostgreSqlSiloMemory), PostgreSqlSiloMemory.RunAsync),
                (nameof(DurableWrites), DurableWrites.RunAsync),
                (nameof(Failover), Failover.RunAsync),
            };
            if (only is not null && workloads.All(w => w.Name != only))
            {
                Console.Error.WriteLine($"bench: no workload named '{only}'; the workloads are {string.Join(", ", workloads.Select(w => w.Name))}.");
                return 2;
            }
            foreach (var workload in workloads.Where(w => only is null || w.Name == only))
            {
                // On standard error, apart from the figures: where the run's time goes, for keeping --quick short.
                var started = System.Diagnostics.Stopwatch.StartNew();
                await workload.Run(context);
                Console.Error.WriteLine($"bench: {workload.Name} took {started.Elapsed.TotalSeconds:0} s");
            }
            // A partial run must not replace the full results on record.
            if (only is null)
            {
                Goals.Declare(context.Report);
                await context.Report.WriteAsync(Path.GetFullPath("bench"));
            }
            await host.StopAsync();
        }
        if (redis is not null) await redis.DisposeAsync();
        return 0;
    default:
        Console.Error.WriteLine("usage: silo SILO_PORT GATEWAY_PORT | client GATEWAY [--quick] [--only WORKLOAD] [--redis HOST:PORT] [--durable ...] [--silo-process PID] [--command TEXT]");
        return 2;
}
