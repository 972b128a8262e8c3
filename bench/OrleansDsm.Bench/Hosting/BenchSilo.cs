using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansDsm.Grains.Hosting;
using OrleansDsm.Silo.Hosting;

namespace OrleansDsm.Bench.Hosting;

/// <summary>
/// A silo like the product's default (localhost clustering, binary in-memory storage), without the dashboard, which
/// profiles every call, and with the baseline grains beside the DSM's.
/// </summary>
public static class BenchSilo
{
    public static async Task<int> RunAsync(int siloPort, int gatewayPort)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort, gatewayPort);
            silo.AddBinaryMemoryStorage(StorageNames.Pages);
            silo.AddBinaryMemoryStorage(StorageNames.Regions);
            silo.AddSharedMemory();
        });
        using var host = builder.Build();
        await host.StartAsync();
        Console.WriteLine("bench silo ready");
        await host.WaitForShutdownAsync();
        return 0;
    }
}
