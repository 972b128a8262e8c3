using System.Reflection;

namespace OrleansDsm.Tests.Arrays;

/// <summary>A read-only handle reads what writers write, coherently, and offers nothing that writes or frees.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ReadOnlyHandleTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_read_only_handle_sees_every_write_and_cannot_make_one()
    {
        await using var writer = new DsmClient(fixture.Cluster.Client);
        await using var reader = new DsmClient(fixture.Cluster.Client);
        var array = await writer.AllocateAsync<int>(UniqueNames.For("read-only"), 2048);
        await array.WriteAsync(0, Enumerable.Range(0, 2048).ToArray());
        var view = await reader.OpenReadOnlyAsync<int>(array.Name);

        var contents = new int[2048];
        await view.ReadAsync(0, contents);
        Assert.Equal(Enumerable.Range(0, 2048), contents);
        Assert.Equal(5, await view.GetAsync(5));
        await array.SetAsync(5, -5);
        Assert.Equal(-5, await view.GetAsync(5)); // the cached copy was revoked, not served stale
        Assert.Equal(-5, view[5]);
        var waiting = view.WaitForChangeAsync(6, 6, TimeSpan.FromSeconds(20));
        await array.SetAsync(6, 60);
        Assert.True(await waiting);
        Assert.Equal((array.Name, array.Length, array.BaseAddress), (view.Name, view.Length, view.BaseAddress));
        Assert.EndsWith("(read-only)", array.AsReadOnly().ToString());
    }

    [Fact]
    public void A_read_only_handle_has_no_member_that_writes_fences_or_frees()
    {
        var members = typeof(ReadOnlySharedArray<int>).GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)
            .Select(member => member.Name).ToHashSet();

        Assert.Contains(nameof(SharedArray<int>.GetAsync), members);
        foreach (var forbidden in new[]
                 {
                     nameof(SharedArray<int>.SetAsync), nameof(SharedArray<int>.WriteAsync), nameof(SharedArray<int>.AddAsync),
                     nameof(SharedArray<int>.ExchangeAsync), nameof(SharedArray<int>.CompareExchangeAsync),
                     nameof(SharedArray<int>.Fenced), nameof(SharedArray<int>.OwnerToken), "set_Item",
                 })
            Assert.DoesNotContain(forbidden, members);
        Assert.Null(typeof(ReadOnlySharedArray<int>).GetProperty("Item")!.SetMethod);
    }

    [Fact]
    public async Task Opening_read_only_refuses_a_missing_region_or_a_wrong_type()
    {
        var array = await fixture.Client.AllocateAsync<long>(UniqueNames.For("read-only-type"), 10);

        await Assert.ThrowsAsync<RegionNotFoundException>(() => fixture.Client.OpenReadOnlyAsync<long>(UniqueNames.For("absent")));
        var mismatch = await Assert.ThrowsAsync<RegionMismatchException>(() => fixture.Client.OpenReadOnlyAsync<int>(array.Name));
        Assert.Contains("not int32", mismatch.Message);
    }
}
