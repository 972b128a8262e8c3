using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace OrleansDsm.Tests.Processes;

/// <summary>
/// A plain Orleans client of a real silo process, for what <see cref="DsmClient"/> does not expose: raw grain calls
/// (as a hostile or misconfigured peer would make) and the management grain.
/// </summary>
public sealed class RawOrleansClient : IAsyncDisposable
{
    private readonly IHost _host;

    private RawOrleansClient(IHost host) => _host = host;

    public IClusterClient Grains => _host.Services.GetRequiredService<IClusterClient>();

    public static async Task<RawOrleansClient> ConnectAsync(string gateway, Action<ClientMessagingOptions>? messaging = null, Action<IClientBuilder>? configure = null)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client =>
        {
            client.UseStaticClustering(System.Net.IPEndPoint.Parse(gateway.Replace("localhost", "127.0.0.1")));
            client.Configure<ClusterOptions>(cluster => (cluster.ClusterId, cluster.ServiceId) = ("dsm", "orleans-dsm"));
            if (messaging is not null) client.Configure(messaging);
            configure?.Invoke(client);
        });
        var host = builder.Build();
        await host.StartAsync();
        return new RawOrleansClient(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
