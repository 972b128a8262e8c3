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
        var (cache, page, epoch, version) = await CachedPageAsync("own-write-race");
        await using var _ = cache;

        cache.BeginWrite(page);
        cache.Revoke(page, version + 1);
        cache.EndWrite(page, null, version + 1, new PageChange(0, BitConverter.GetBytes(2L)));

        Assert.False(cache.Holds(page, epoch));
    }

    [Fact]
    public async Task An_own_write_not_revoked_updates_the_copy_in_place()
    {
        var (cache, page, epoch, version) = await CachedPageAsync("own-write-kept");
        await using var _ = cache;

        cache.BeginWrite(page);
        cache.EndWrite(page, null, version + 1, new PageChange(0, BitConverter.GetBytes(2L)));

        Assert.True(cache.TryGet(page, epoch, out var updated));
        Assert.Equal(2L, updated.Read<long>(0));
    }

    /// <summary>A page written once and then cached by a cache of its own: the cache, the page, its epoch and the copy's version.</summary>
    private async Task<(PageCache Cache, long Page, long Epoch, long Version)> CachedPageAsync(string name)
    {
        var array = await fixture.Client.AllocateAsync<long>(UniqueNames.For(name), 512);
        await array.SetAsync(0, 1);
        var cache = new PageCache(fixture.Cluster.Client, new PageReferences(fixture.Cluster.Client), 1 << 20, TimeProvider.System, 0);
        var copy = await cache.FillAsync(array.Region.FirstPage, array.Region.Epoch, CancellationToken.None);
        return (cache, array.Region.FirstPage, array.Region.Epoch, copy.Version);
    }
}
