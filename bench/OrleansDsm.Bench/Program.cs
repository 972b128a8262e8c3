// The benchmark: "silo SILO_PORT GATEWAY_PORT" hosts the bench silo; "client GATEWAY [--quick] --command TEXT"
// runs every workload against it and writes bench/results/latest.json and bench/RESULTS.md. bench/run.sh runs both.
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using OrleansDsm;
using OrleansDsm.Bench.Harness;
using OrleansDsm.Bench.Hosting;
using OrleansDsm.Bench.Workloads;

switch (args)
{
    case ["silo", var siloPort, var gatewayPort]:
        return await BenchSilo.RunAsync(int.Parse(siloPort), int.Parse(gatewayPort));
    case ["client", var gateway, .. var rest]:
        var quick = rest.Contains("--quick");
        var command = rest.SkipWhile(a => a != "--command").Skip(1).FirstOrDefault() ?? "bench/run.sh";
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client => client.UseStaticClustering(System.Net.IPEndPoint.Parse(gateway)));
        using (var host = builder.Build())
        {
            await host.StartAsync();
            var orleans = host.Services.GetRequiredService<IClusterClient>();
            var context = new BenchContext(new DsmClient(orleans), orleans, new Report(command), quick);
            await ElementLatency.RunAsync(context);
            await ElementThroughput.RunAsync(context);
            await BulkCopy.RunAsync(context);
            await ResidentPageMemory.RunAsync(context);
            await ReadMostlyMix.RunAsync(context);
            await CoherenceCosts.RunAsync(context);
            await CachedReads.RunAsync(context);
            Goals.Declare(context.Report);
            await context.Report.WriteAsync(Path.GetFullPath("bench"));
            await host.StopAsync();
        }
        return 0;
    default:
        Console.Error.WriteLine("usage: silo SILO_PORT GATEWAY_PORT | client GATEWAY [--quick] [--command TEXT]");
        return 2;
}
