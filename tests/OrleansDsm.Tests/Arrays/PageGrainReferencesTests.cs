using OrleansDsm.Pages;

namespace OrleansDsm.Tests.Arrays;

/// <summary>References built without GetGrain's reflection name the same grains, and calls through them reach their pages.</summary>
[Collection(ClusterCollection.Name)]
public sealed class PageGrainReferencesTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_reference_built_directly_is_the_one_GetGrain_gives_and_reaches_its_page()
    {
        var references = new PageGrainReferences(fixture.Cluster.Client);
        foreach (var page in new long[] { 0, 1, 4095, 1L << 40, long.MaxValue })
        {
            Assert.Equal(fixture.Cluster.Client.GetGrain<IPageGrain>(page).GetGrainId(), references[page].GetGrainId());
            Assert.Equal(page, references[page].GetPrimaryKeyLong());
        }

        var array = await fixture.Client.AllocateAsync<long>(UniqueNames.For("references"), 1024);
        await array.SetAsync(3, 42);
        Assert.Equal(42UL, await references[array.Region.FirstPage].ReadElement(array.Region.Epoch, 3 * sizeof(long), sizeof(long)));
    }
}
