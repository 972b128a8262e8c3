using Orleans.TestingHost;
using OrleansDsm.Grains.Hosting;
using OrleansDsm.Silo.Hosting;

namespace OrleansDsm.Tests.Regions;

/// <summary>The page size is recorded with the cluster; a silo configured otherwise does not join it.</summary>
public sealed class PageSizeTests
{
    [Fact]
    public async Task A_silo_with_another_page_size_refuses_to_start_and_says_why()
    {
        var pageSizes = new Dictionary<string, int>();
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((options, silo) =>
        {
            silo.AddBinaryMemoryStorage(StorageNames.Regions);
            silo.AddBinaryMemoryStorage(StorageNames.Pages);
            var pageSize = pageSizes.GetValueOrDefault(options.SiloName, 8192);
            silo.AddSharedMemory(space => space.Configure(o => o.PageSize = pageSize));
        });
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        var client = new DsmClient(cluster.Client);
        var array = await client.AllocateAsync<int>("eight-k", 4096);
        Assert.Equal(8192, array.Region.PageSize);

        pageSizes["Silo_1"] = 4096;
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => cluster.StartAdditionalSiloAsync());

        var message = SiloComposition.StartupFailure(refused);
        Assert.Contains("4096", message);
        Assert.Contains("8192", message);
        Assert.Equal(8192, (await cluster.Client.GetGrain<IRegionDirectoryGrain>(0).GetState()).PageSize);
    }

    [Fact]
    public void Page_sizes_must_be_powers_of_two_within_bounds()
    {
        Assert.Null(PageGeometry.Describe(512));
        Assert.Null(PageGeometry.Describe(1 << 20));
        Assert.NotNull(PageGeometry.Describe(256));
        Assert.NotNull(PageGeometry.Describe(3000));
        Assert.NotNull(PageGeometry.Describe(2 << 20));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PageGeometry(1000));
        Assert.Equal(12, new PageGeometry(4096).Shift);
        Assert.Equal(2, new PageGeometry(4096).PagesFor(4097));
    }
}
