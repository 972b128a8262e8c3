using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansDsm.Grains.Hosting;
using OrleansDsm.Silo.Hosting;

namespace OrleansDsm.Bench.Hosting;

/// <summary>
/// A silo like the product's default (localhost clustering, binary in-memory storage written behind, server GC, which bench/run.sh
/// turns on), without the dashboard, which profiles every call, and with the baseline grains beside the DSM's.
/// </summary>
public static class BenchSilo
{
    public static async Task<int> RunAsync(int siloPort, int gatewayPort)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleans(silo =>
        {
            // Orleans' default cluster and service ids ("default"), which the bench client and the sample it runs name.
            silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: "default", clusterId: "default");
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
