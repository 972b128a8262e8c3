using System.Net;
using Orleans.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansDsm.Grains.Hosting;
using OrleansDsm.Silo.Hosting;

namespace OrleansDsm.Bench.Hosting;

/// <summary>
/// A silo like the product's default (localhost clustering, binary in-memory storage written behind, server GC, which bench/run.sh
/// turns on), without the dashboard, which profiles every call, and with the baseline grains beside the DSM's. A
/// second silo joins the first through <paramref name="primarySiloPort"/>; <paramref name="repartition"/> turns on
/// Orleans' activation repartitioning, with rounds every few seconds so that a short run sees them.
/// </summary>
public static class BenchSilo
{
    public static async Task<int> RunAsync(int siloPort, int gatewayPort, string cluster = "default", int? primarySiloPort = null, bool repartition = false)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleans(silo =>
        {
            // The bench silo keeps Orleans' default ids ("default"), which the bench client and the sample it runs name;
            // the silos of a placement workload's cluster are named by it.
            silo.UseLocalhostClustering(siloPort, gatewayPort, primarySiloPort is { } primary ? new IPEndPoint(IPAddress.Loopback, primary) : null,
                serviceId: cluster, clusterId: cluster);
            if (repartition)
            {
#pragma warning disable ORLEANSEXP001 // experimental in Orleans 10: measured here, not used by the product
                silo.AddActivationRepartitioner();
#pragma warning restore ORLEANSEXP001
                silo.Configure<ActivationRepartitionerOptions>(options =>
                    (options.MinRoundPeriod, options.MaxRoundPeriod, options.RecoveryPeriod) = (TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(2)));
            }
            silo.AddBinaryMemoryStorage(StorageNames.Pages);
            silo.AddBinaryMemoryStorage(StorageNames.Regions);
            silo.AddSharedMemory(options => options.Configure(space => space.WriteBehind = SiloComposition.MemoryWriteBehind));
        });
        using var host = builder.Build();
        await host.StartAsync();
        Console.WriteLine("bench silo ready");
        await host.WaitForShutdownAsync();
        return 0;
    }
}
