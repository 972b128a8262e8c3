using OrleansDsm.Pages;

namespace OrleansDsm.Tests.Arrays;

/// <summary>The silo-side fan-out that carries range operations refuses malformed batches and changes nothing.</summary>
[Collection(ClusterCollection.Name)]
public sealed class PageBatchTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_batch_whose_bytes_do_not_match_its_spans_is_refused_whole()
    {
        var array = await fixture.Client.AllocateAsync<byte>(UniqueNames.For("batch"), 8192);
        var batch = fixture.Cluster.Client.GetGrain<IPageBatchGrain>(0);
        var spans = new[] { new PageSpan(array.Region.FirstPage, 0, 10), new PageSpan(array.Region.FirstPage + 1, 0, 10) };

        var refused = await Assert.ThrowsAsync<ArgumentException>(() => batch.Write(array.Region.Epoch, new RequestId(Guid.NewGuid(), 1), spans, new byte[19]));
        Assert.Contains("20 bytes but 19", refused.Message);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            batch.Write(array.Region.Epoch, new RequestId(Guid.NewGuid(), 1), [new PageSpan(array.Region.FirstPage, 0, 0)], []));

        var contents = new byte[8192];
        await array.ReadAsync(0, contents);
        Assert.All(contents, value => Assert.Equal(0, value));
    }

    [Fact]
    public async Task A_batch_reaching_outside_its_region_is_refused_by_the_page()
    {
        var array = await fixture.Client.AllocateAsync<byte>(UniqueNames.For("batch-edge"), 4096);
        var batch = fixture.Cluster.Client.GetGrain<IPageBatchGrain>(0);
        var outside = new[] { new PageSpan(array.Region.FirstPage + 5, 0, 4) };

        var refused = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => batch.Write(array.Region.Epoch, new RequestId(Guid.NewGuid(), 1), outside, new byte[4]));
        Assert.Contains("not part of allocation epoch", refused.Message);
    }
}
