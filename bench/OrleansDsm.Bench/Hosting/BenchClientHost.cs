using Microsoft.Extensions.Hosting;
using OrleansDsm.Hosting;

namespace OrleansDsm.Bench.Hosting;

/// <summary>
/// An Orleans client of the bench silo with the DSM's client services, configured as <c>DsmClient.ConnectAsync</c>
/// configures its own, so that the bare-call anchors share the DSM's transport. The bench's own client is one; a
/// workload that stands for another process makes another, which has connections of its own.
/// </summary>
public static class BenchClientHost
{
    public static IHost Build(string gateway)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client => client.UseStaticClustering(System.Net.IPEndPoint.Parse(gateway)).UseLowLatencySockets());
        builder.Services.AddDsmClient();
        return builder.Build();
    }
}
