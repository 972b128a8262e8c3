using OrleansDsm.Connection;

namespace OrleansDsm.Tests.Regions;

/// <summary>
/// Freeing needs the owner token the allocation returned (the allocating client keeps it) or the cluster's admin
/// token; a free without either is refused and changes nothing.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class OwnerTokenTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_free_without_the_owner_token_is_refused_and_changes_nothing()
    {
        await using var owner = new DsmClient(fixture.Cluster.Client);
        await using var stranger = new DsmClient(fixture.Cluster.Client);
        var array = await owner.AllocateAsync<long>(UniqueNames.For("owned"), 3000);
        await array.WriteAsync(0, Enumerable.Range(1, 3000).Select(i => (long)i).ToArray());
        var directory = fixture.Cluster.Client.GetGrain<IRegionDirectoryGrain>(0);
        var before = await directory.GetState();
        var rowsBefore = fixture.PageRows;

        var none = await Assert.ThrowsAsync<AccessDeniedException>(() => stranger.FreeAsync(array.Name));
        Assert.Contains(array.Name, none.Message);
        Assert.Contains("no token was given", none.Message);
        var wrong = await Assert.ThrowsAsync<AccessDeniedException>(() => stranger.FreeAsync(array.Name, "dsm-owner-" + new string('0', 64)));
        Assert.Contains("neither", wrong.Message);
        var opened = await stranger.OpenAsync<long>(array.Name);
        await Assert.ThrowsAsync<AccessDeniedException>(() => stranger.FreeAsync(array.Name, opened.OwnerToken));

        var after = await directory.GetState();
        Assert.Equal(before.Regions, after.Regions);
        Assert.Equal(before.ReservedBytes, after.ReservedBytes);
        Assert.Equal(rowsBefore, fixture.PageRows);
        var contents = new long[3000];
        await (await stranger.OpenAsync<long>(array.Name)).ReadAsync(0, contents);
        Assert.Equal(Enumerable.Range(1, 3000).Select(i => (long)i), contents);

        await stranger.FreeAsync(array.Name, array.OwnerToken);
        Assert.DoesNotContain(array.Name, (await directory.GetState()).Regions.Select(region => region.Name));
    }

    [Fact]
    public async Task The_allocating_client_frees_without_being_told_and_only_allocations_carry_a_token()
    {
        var name = UniqueNames.For("self-owned");
        var array = await fixture.Client.AllocateAsync<int>(name, 10);
        Assert.StartsWith("dsm-owner-", array.OwnerToken);
        Assert.Null((await fixture.Client.OpenAsync<int>(name)).OwnerToken);
        Assert.Null((await fixture.Client.OpenOrCreateAsync<int>(name, 10)).OwnerToken);
        Assert.NotEqual(array.OwnerToken, (await fixture.Client.AllocateAsync<int>(UniqueNames.For("other-owned"), 10)).OwnerToken);

        await fixture.Client.FreeAsync(name);

        await Assert.ThrowsAsync<RegionNotFoundException>(() => fixture.Client.OpenAsync<int>(name));
    }

    [Fact]
    public async Task The_admin_token_frees_any_region()
    {
        await using var owner = new DsmClient(fixture.Cluster.Client);
        await using var admin = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { AdminToken = ClusterFixture.AdminToken });
        var name = UniqueNames.For("admin-freed");
        await owner.AllocateAsync<int>(name, 10);

        await admin.FreeAsync(name);

        await Assert.ThrowsAsync<RegionNotFoundException>(() => owner.OpenAsync<int>(name));
    }
}
