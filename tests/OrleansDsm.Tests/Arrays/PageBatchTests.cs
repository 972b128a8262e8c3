using Microsoft.Extensions.DependencyInjection;
using OrleansDsm.Pages;

namespace OrleansDsm.Tests.Arrays;

/// <summary>
/// The silo-side fan-out that carries range operations refuses malformed batches and changes nothing; the whole-page
/// reads it gathers share the page's committed image, which writes never change.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class PageBatchTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_batch_whose_pieces_do_not_match_its_spans_is_refused_whole()
    {
        var array = await fixture.Client.AllocateAsync<byte>(UniqueNames.For("batch"), 8192);
        var batch = fixture.Cluster.Client.GetGrain<IPageBatchGrain>(0);
        var spans = new[] { new PageSpan(array.Region.FirstPage, 0, 10), new PageSpan(array.Region.FirstPage + 1, 0, 10) };

        var shortPiece = await Assert.ThrowsAsync<ArgumentException>(() => batch.Write(array.Region.Epoch, new RequestId(Guid.NewGuid(), 1), spans, [new byte[10], new byte[9]]));
        Assert.Contains("Span 1 covers 10 bytes but its piece holds 9", shortPiece.Message);
        var missingPiece = await Assert.ThrowsAsync<ArgumentException>(() => batch.Write(array.Region.Epoch, new RequestId(Guid.NewGuid(), 1), spans, [new byte[10]]));
        Assert.Contains("2 spans were sent with 1 pieces", missingPiece.Message);
        var nullPiece = await Assert.ThrowsAsync<ArgumentException>(() => batch.Write(array.Region.Epoch, new RequestId(Guid.NewGuid(), 1), spans, [new byte[10], null!]));
        Assert.Contains("Span 1 covers 10 bytes but its piece holds none", nullPiece.Message);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            batch.Write(array.Region.Epoch, new RequestId(Guid.NewGuid(), 1), [new PageSpan(array.Region.FirstPage, 0, 0)], [[]]));

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

        var refused = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => batch.Write(array.Region.Epoch, new RequestId(Guid.NewGuid(), 1), outside, [new byte[4]]));
        Assert.Contains("not part of allocation epoch", refused.Message);
    }

    [Fact]
    public async Task A_read_batch_with_an_empty_span_is_refused()
    {
        var array = await fixture.Client.AllocateAsync<byte>(UniqueNames.For("batch-empty"), 4096);
        var batch = fixture.Cluster.Client.GetGrain<IPageBatchGrain>(0);

        var refused = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => batch.Read(array.Region.Epoch, [new PageSpan(array.Region.FirstPage, 0, 0)]));
        Assert.Contains("at least one byte", refused.Message);
    }

    [Fact]
    public async Task A_whole_page_read_inside_the_silo_shares_the_committed_image_and_a_later_write_leaves_it_as_it_was()
    {
        var array = await fixture.Client.AllocateAsync<byte>(UniqueNames.For("batch-image"), 4096);
        await array.WriteAsync(0, Enumerable.Repeat((byte)7, 4096).ToArray());
        var (page, epoch) = (array.Region.FirstPage, array.Region.Epoch);

        // From the silo that holds the page, a read is a local call: two reads return the one committed array.
        byte[]? shared = null;
        foreach (var silo in fixture.Cluster.Silos)
        {
            var pageGrain = silo.ServiceProvider.GetRequiredService<IGrainFactory>().GetGrain<IPageGrain>(page);
            var first = (await pageGrain.Read(epoch, 0, 4096)).Value;
            if (ReferenceEquals(first, (await pageGrain.Read(epoch, 0, 4096)).Value)) shared = first;
        }
        Assert.NotNull(shared);

        await array.WriteAsync(0, Enumerable.Repeat((byte)9, 4096).ToArray());
        var now = new byte[4096];
        await array.ReadAsync(0, now);
        Assert.All(now, value => Assert.Equal(9, value));
        Assert.All(shared, value => Assert.Equal(7, value));
    }

    [Fact]
    public async Task A_whole_page_write_inside_the_silo_becomes_the_image_uncopied_and_a_later_write_leaves_it_as_it_was()
    {
        var array = await fixture.Client.AllocateAsync<byte>(UniqueNames.For("batch-adopt"), 4096);
        var (page, epoch) = (array.Region.FirstPage, array.Region.Epoch);
        await array.SetAsync(0, 1);

        // From the silo that holds the page, the written array itself is what a read then returns.
        byte[]? adopted = null;
        foreach (var silo in fixture.Cluster.Silos)
        {
            var pageGrain = silo.ServiceProvider.GetRequiredService<IGrainFactory>().GetGrain<IPageGrain>(page);
            var written = Enumerable.Repeat((byte)5, 4096).ToArray();
            await pageGrain.Write(epoch, new RequestId(Guid.NewGuid(), 1), 0, written);
            if (ReferenceEquals(written, (await pageGrain.Read(epoch, 0, 4096)).Value)) adopted = written;
        }
        Assert.NotNull(adopted);

        await array.SetAsync(10, 9);
        Assert.Equal(9, await array.GetAsync(10));
        Assert.Equal(5, await array.GetAsync(11));
        Assert.All(adopted, value => Assert.Equal(5, value));
    }
}
