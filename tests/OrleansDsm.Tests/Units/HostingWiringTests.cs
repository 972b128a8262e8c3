using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using OrleansDsm.Grains.Hosting;
using OrleansDsm.Hosting;
using OrleansDsm.Networking;

namespace OrleansDsm.Tests.Units;

[Collection(ClusterCollection.Name)]
public sealed class HostingWiringTests(ClusterFixture fixture)
{
    [Fact]
    public async Task AddDsmClient_serves_the_same_memory_through_the_applications_orleans_client()
    {
        var services = new ServiceCollection().AddSingleton(fixture.Cluster.Client).AddDsmClient().BuildServiceProvider();
        var viaDependencyInjection = services.GetRequiredService<DsmClient>();
        var name = UniqueNames.For("di");

        var written = await fixture.Client.AllocateAsync<short>(name, 3);
        await written.SetAsync(2, -7);

        Assert.Equal(-7, await (await viaDependencyInjection.OpenAsync<short>(name)).GetAsync(2));
    }

    [Fact]
    public void The_page_idle_timeout_becomes_the_page_grains_collection_age()
    {
        var silo = fixture.Cluster.Silos[0].ServiceProvider;
        var collection = silo.GetRequiredService<IOptions<GrainCollectionOptions>>().Value;
        var space = silo.GetRequiredService<IOptions<AddressSpaceOptions>>().Value;

        Assert.Equal(space.PageIdleTimeout, collection.ClassSpecificCollectionAge["OrleansDsm.Grains.Pages.PageGrain"]);
    }

    [Fact]
    public void Silos_and_clients_connect_and_listen_through_the_shared_memorys_socket_transport()
    {
        var silo = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        silo.UseOrleans(orleans => orleans.UseLocalhostClustering().AddSharedMemory());
        var client = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        client.UseOrleansClient(orleans => orleans.UseLocalhostClustering().UseLowLatencySockets());

        // Silo to silo and gateway listeners, and the silo's and the client's connectors: each key Orleans asks for.
        Assert.Equal((1, 2), TransportsIn(silo.Services));
        Assert.Equal((1, 0), TransportsIn(client.Services));
    }

    /// <summary>How many Orleans connector and listener keys <paramref name="services"/> resolves, each to ours (or the test fails).</summary>
    private static (int Connectors, int Listeners) TransportsIn(IServiceCollection services)
    {
        var keyed = services.Where(service => service.IsKeyedService).ToList();
        using var provider = services.BuildServiceProvider();
        var connectors = keyed.Where(service => service.ServiceType == typeof(IConnectionFactory)).Select(service => service.ServiceKey).Distinct().ToList();
        var listeners = keyed.Where(service => service.ServiceType == typeof(IConnectionListenerFactory)).Select(service => service.ServiceKey).Distinct().ToList();
        foreach (var key in connectors) Assert.IsType<SocketConnector>(provider.GetRequiredKeyedService<IConnectionFactory>(key));
        foreach (var key in listeners) Assert.IsType<SocketListenerFactory>(provider.GetRequiredKeyedService<IConnectionListenerFactory>(key));
        return (connectors.Count, listeners.Count);
    }
}
