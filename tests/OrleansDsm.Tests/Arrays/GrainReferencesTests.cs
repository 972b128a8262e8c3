using OrleansDsm.Pages;
using OrleansDsm.Regions;

namespace OrleansDsm.Tests.Arrays;

/// <summary>References built without GetGrain's reflection name the same grains, and calls through them reach those grains.</summary>
[Collection(ClusterCollection.Name)]
public sealed class GrainReferencesTests(ClusterFixture fixture)
{
    private static readonly long[] Keys = [0, 1, 4095, 1L << 40, long.MaxValue];

    [Fact]
    public async Task A_page_reference_built_directly_is_the_one_GetGrain_gives_and_reaches_its_page()
    {
        var references = new GrainReferences<IPageGrain>(fixture.Cluster.Client);
        foreach (var page in Keys)
        {
            Assert.Equal(fixture.Cluster.Client.GetGrain<IPageGrain>(page).GetGrainId(), references[page].GetGrainId());
            Assert.Equal(page, references[page].GetPrimaryKeyLong());
        }

        var array = await fixture.Client.AllocateAsync<long>(UniqueNames.For("references"), 1024);
        await array.SetAsync(3, 42);
        Assert.Equal(42UL, await references[array.Region.FirstPage].ReadElement(array.Region.Epoch, 3 * sizeof(long), sizeof(long)));
    }

    [Fact]
    public async Task A_region_reference_built_directly_is_the_one_GetGrain_gives_and_reaches_its_allocation()
    {
        var references = new GrainReferences<IRegionGrain>(fixture.Cluster.Client);
        foreach (var epoch in Keys)
            Assert.Equal(fixture.Cluster.Client.GetGrain<IRegionGrain>(epoch).GetGrainId(), references[epoch].GetGrainId());

        var array = await fixture.Client.AllocateAsync<long>(UniqueNames.For("region-references"), 1024);
        var extent = await references[array.Region.Epoch].GetExtent(array.Region.Epoch);
        Assert.Equal(array.Region.FirstPage, extent.FirstPage);
    }
}
