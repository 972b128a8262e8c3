using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Networking.Shared;
using OrleansDsm.Hosting;

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
        var space = silo.GetRequiredService<IOptions<OrleansDsm.Grains.Hosting.AddressSpaceOptions>>().Value;

        Assert.Equal(space.PageIdleTimeout, collection.ClassSpecificCollectionAge["OrleansDsm.Grains.Pages.PageGrain"]);
    }

    [Fact]
    public void Silos_and_clients_hand_socket_completions_to_the_thread_pool_directly()
    {
        var silo = fixture.Cluster.Silos[0].ServiceProvider;
        Assert.Equal(0, silo.GetRequiredService<IOptions<SocketConnectionOptions>>().Value.IOQueueCount);

        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client => client.UseLocalhostClustering().UseLowLatencySockets());
        using var host = builder.Build();
        Assert.Equal(0, host.Services.GetRequiredService<IOptions<SocketConnectionOptions>>().Value.IOQueueCount);
    }
}
