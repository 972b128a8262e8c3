using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using OrleansDsm.Grains.Hosting;
using OrleansDsm.Silo.Hosting;

namespace OrleansDsm.Tests.Placement;

/// <summary>
/// <c>Dsm:PagePlacement=FirstTouch</c>: a page activates on the silo its first call comes from. Each of two silos
/// writes its own half of a region through its own cluster client, as a worker grain hosted there would, and every
/// page must then be active on the silo that wrote it. The silos' default placement is made random here, so that the
/// check bites: with <c>Balanced</c>, which hands pages to that default, the same writes leave pages on the other silo.
/// </summary>
public sealed class FirstTouchPlacementTests
{
    private const int PagesPerSilo = 24;

    [Theory]
    [InlineData("FirstTouch", true)]
    [InlineData("Balanced", false)]
    public async Task Pages_activate_on_the_silo_that_touched_them_first_exactly_when_asked(string placement, bool allLocal)
    {
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddBinaryMemoryStorage(StorageNames.Regions);
            silo.AddBinaryMemoryStorage(StorageNames.Pages);
            silo.AddSharedMemory(options => options.Configure(space => space.PagePlacement = placement));
            silo.Services.AddSingleton<PlacementStrategy, RandomPlacement>();
        });
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        var name = UniqueNames.For("first-touch");
        var region = (await new DsmClient(cluster.Client).AllocateAsync<long>(name, 2 * PagesPerSilo * 512L, Consistency.Uncached)).Region;

        for (var silo = 0; silo < 2; silo++)
        {
            await using var worker = new DsmClient(cluster.Silos[silo].ServiceProvider.GetRequiredService<IClusterClient>());
            var array = await worker.OpenAsync<long>(name);
            for (var page = silo * PagesPerSilo; page < (silo + 1) * PagesPerSilo; page++) await array.SetAsync(page * 512L, page + 1);
        }

        var local = Enumerable.Range(0, 2 * PagesPerSilo)
            .Count(page => ActivePages.Of(cluster.Silos[page / PagesPerSilo]).Find(region.FirstPage + page) is not null);
        if (allLocal) Assert.Equal(2 * PagesPerSilo, local);
        else Assert.InRange(local, 0, 2 * PagesPerSilo - 1);
        // The region's statistics say the same: how many pages are active on each silo, by its address.
        var stat = await new DsmClient(cluster.Client).StatAsync(name);
        if (allLocal)
            Assert.Equal(cluster.Silos.Select(silo => (silo.SiloAddress.ToString(), PagesPerSilo)).Order(), stat.PagesBySilo.Select(pair => (pair.Key, pair.Value)).Order());
        Assert.Equal(2 * PagesPerSilo, stat.PagesBySilo.Values.Sum());
    }
}
