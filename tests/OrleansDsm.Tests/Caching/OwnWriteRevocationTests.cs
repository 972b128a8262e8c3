using OrleansDsm.Arrays;
using OrleansDsm.Caching;

namespace OrleansDsm.Tests.Caching;

/// <summary>
/// The race two linearizability runs caught: while this client's write of a page is in flight, another of its tasks
/// fills the page, the page's record of the client's copy falls back to the fill's older version, and the write's own
/// publication revokes the client at the written version and stops tracking it. The client must then not make a copy
/// from its own change, since no later write would revoke it.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class OwnWriteRevocationTests(ClusterFixture fixture)
{
    [Fact]
    public async Task An_own_write_revoked_at_its_own_version_leaves_no_copy_behind()
    {
        var array = await fixture.Client.AllocateAsync<long>(UniqueNames.For("own-write-race"), 512);
        await array.SetAsync(0, 1);
        await using var cache = new PageCache(fixture.Cluster.Client, new PageReferences(fixture.Cluster.Client), 1 << 20, TimeProvider.System, 0);
        var page = array.Region.FirstPage;
        var copy = await cache.FillAsync(page, array.Region.Epoch, CancellationToken.None);

        cache.BeginWrite(page);
        cache.Revoke(page, copy.Version + 1);
        cache.EndWrite(page, copy.Version + 1, new PageChange(0, BitConverter.GetBytes(2L)));

        Assert.False(cache.Holds(page, array.Region.Epoch));
    }

    [Fact]
    public async Task An_own_write_not_revoked_updates_the_copy_in_place()
    {
        var array = await fixture.Client.AllocateAsync<long>(UniqueNames.For("own-write-kept"), 512);
        await array.SetAsync(0, 1);
        await using var cache = new PageCache(fixture.Cluster.Client, new PageReferences(fixture.Cluster.Client), 1 << 20, TimeProvider.System, 0);
        var page = array.Region.FirstPage;
        var copy = await cache.FillAsync(page, array.Region.Epoch, CancellationToken.None);

        cache.BeginWrite(page);
        cache.EndWrite(page, copy.Version + 1, new PageChange(0, BitConverter.GetBytes(2L)));

        Assert.True(cache.TryGet(page, array.Region.Epoch, out var updated));
        Assert.Equal(2L, updated.Read<long>(0));
    }
}
