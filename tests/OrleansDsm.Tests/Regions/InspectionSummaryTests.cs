using OrleansDsm.Pages;
using OrleansDsm.Regions;

namespace OrleansDsm.Tests.Regions;

/// <summary>The one summary each page and region grain shows the dashboard: what it holds, who caches it, who wrote it last.</summary>
[Collection(ClusterCollection.Name)]
public sealed class InspectionSummaryTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_page_summary_names_its_cache_holders_its_last_writer_and_the_bytes_it_keeps()
    {
        var name = UniqueNames.For("summary");
        var array = await fixture.Client.AllocateAsync<long>(name, 512);
        var region = await fixture.Client.DescribeAsync(name);
        var page = fixture.Cluster.Client.GetGrain<IPageGrain>(region.FirstPage);

        var untouched = await page.GetState();
        Assert.Equal((0, 0, (Guid?)null), (untouched.BytesInUse, untouched.CacheHolders, untouched.LastWriter));

        await array.SetAsync(1, 5);
        await using var other = new DsmClient(fixture.Cluster.Client);
        var seen = await other.OpenAsync<long>(name);
        Assert.Equal(5, await seen.GetAsync(1)); // the other client now caches the page
        var written = await page.GetState();
        Assert.Equal(region.PageSize, written.BytesInUse);
        Assert.Equal(1, written.CacheHolders);
        Assert.NotNull(written.LastWriter);

        await seen.SetAsync(2, 6);
        var rewritten = await page.GetState();
        Assert.NotNull(rewritten.LastWriter);
        Assert.NotEqual(written.LastWriter, rewritten.LastWriter);
        Assert.Equal(written.Version + 1, rewritten.Version);
    }

    [Fact]
    public void The_only_parameterless_grain_methods_are_read_only_summaries()
    {
        // The dashboard calls a grain's parameterless methods to show it: none of them may change or hold anything.
        var methods = typeof(IPageGrain).Assembly.GetTypes()
            .Where(type => type.IsInterface && typeof(IGrain).IsAssignableFrom(type))
            .SelectMany(type => type.GetMethods().Select(method => (type, method)))
            .Where(entry => entry.method.GetParameters().Length == 0)
            .ToList();

        Assert.NotEmpty(methods);
        Assert.All(methods, entry =>
        {
            Assert.Equal("GetState", entry.method.Name);
            Assert.True(entry.method.IsDefined(typeof(Orleans.Concurrency.ReadOnlyAttribute), false), $"{entry.type.Name}.GetState is not [ReadOnly]");
        });
    }

    [Fact]
    public async Task A_call_naming_another_grain_s_key_is_refused()
    {
        var name = UniqueNames.For("own-key");
        await fixture.Client.AllocateAsync<int>(name, 10);
        var region = await fixture.Client.DescribeAsync(name);
        var allocation = fixture.Cluster.Client.GetGrain<IRegionGrain>(region.Epoch);

        await Assert.ThrowsAsync<ArgumentException>(() => allocation.Free(region.Epoch + 1));
        await Assert.ThrowsAsync<ArgumentException>(() => allocation.GetExtent(region.Epoch + 1));
        Assert.False((await allocation.GetState()).Freed);
        var backup = fixture.Cluster.Client.GetGrain<OrleansDsm.Backups.IBackupGrain>(Guid.NewGuid());
        await Assert.ThrowsAsync<ArgumentException>(() => backup.Begin(Guid.NewGuid()));
        await Assert.ThrowsAsync<ArgumentException>(() => backup.End(Guid.NewGuid()));
    }

    [Fact]
    public async Task A_region_summary_counts_touched_pages_and_shows_a_free()
    {
        var name = UniqueNames.For("region-summary");
        var array = await fixture.Client.AllocateAsync<int>(name, 1024 * 10);
        var region = await fixture.Client.DescribeAsync(name);
        await array.SetAsync(0, 1);
        await array.SetAsync(1024 * 9, 1);
        var allocation = fixture.Cluster.Client.GetGrain<IRegionGrain>(region.Epoch);

        Assert.Equal(new RegionSummary(region.Epoch, region.FirstPage, region.PageCount, 2, false), await allocation.GetState());
        Assert.Equal(new long[] { region.FirstPage + 9 }, (await allocation.GetTouchedPages(region.FirstPage, 10)).Pages);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => allocation.GetTouchedPages(-1, 0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => allocation.GetTouchedPages(-1, TouchedPages.MaxPerCall + 1));

        await fixture.Client.FreeAsync(name);
        Assert.True((await allocation.GetState()).Freed);
        await Assert.ThrowsAsync<OrleansDsm.Errors.RegionFreedException>(() => allocation.GetTouchedPages(-1, 10));
    }
}
