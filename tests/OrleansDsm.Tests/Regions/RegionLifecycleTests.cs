namespace OrleansDsm.Tests.Regions;

[Collection(ClusterCollection.Name)]
public sealed class RegionLifecycleTests(ClusterFixture fixture)
{
    private DsmClient Client => fixture.Client;

    [Fact]
    public async Task An_allocated_region_is_listed_opened_and_zeroed()
    {
        var name = UniqueNames.For("alloc");
        var array = await Client.AllocateAsync<int>(name, 3000);

        var opened = await Client.OpenAsync<int>(name);
        var listed = (await Client.ListAsync()).Single(region => region.Name == name);

        Assert.Equal(array.Region, opened.Region);
        Assert.Equal(array.Region, listed);
        Assert.Equal(3000, opened.Length);
        Assert.Equal("int32", listed.ElementType);
        Assert.Equal(Consistency.Strict, listed.Consistency);
        Assert.Equal(0UL, array.BaseAddress.Value % 4096);
        Assert.Equal(0, await opened.GetAsync(2999));
    }

    [Fact]
    public async Task Values_written_by_one_handle_are_read_by_another()
    {
        var name = UniqueNames.For("share");
        var writer = await Client.AllocateAsync<long>(name, 10);
        var reader = await Client.OpenAsync<long>(name);

        await writer.SetAsync(7, -123456789012L);

        Assert.Equal(-123456789012L, await reader.GetAsync(7));
        Assert.Equal(-123456789012L, reader[7]);
    }

    [Fact]
    public async Task Open_or_create_allocates_once_then_opens()
    {
        var name = UniqueNames.For("ooc");
        var first = await Client.OpenOrCreateAsync<double>(name, 100);
        await first.SetAsync(1, 2.5);

        var second = await Client.OpenOrCreateAsync<double>(name, 100);

        Assert.Equal(first.Region.Epoch, second.Region.Epoch);
        Assert.Equal(2.5, await second.GetAsync(1));
    }

    [Fact]
    public async Task Freeing_deletes_the_stored_pages_and_a_reused_range_reads_zeros()
    {
        var rowsBefore = fixture.PageRows;
        var name = UniqueNames.For("reuse");
        var old = await Client.AllocateAsync<int>(name, 4 * 1024);
        await old.WriteAsync(0, Enumerable.Range(1, 4 * 1024).ToArray());
        Assert.Equal(rowsBefore + 4, fixture.PageRows);

        await Client.FreeAsync(name);
        Assert.Equal(rowsBefore, fixture.PageRows);

        // First fit hands the freed range to the next allocation of the same size.
        var reused = await Client.AllocateAsync<int>(name, 4 * 1024);
        Assert.Equal(old.BaseAddress, reused.BaseAddress);
        Assert.NotEqual(old.Region.Epoch, reused.Region.Epoch);
        var contents = new int[4 * 1024];
        await reused.ReadAsync(0, contents);
        Assert.All(contents, value => Assert.Equal(0, value));
    }

    [Fact]
    public async Task A_handle_to_a_freed_region_fails_clearly_even_after_the_range_is_reused()
    {
        var name = UniqueNames.For("stale");
        var stale = await Client.AllocateAsync<int>(name, 1024);
        await stale.SetAsync(0, 1);
        await Client.FreeAsync(name);

        var freed = await Assert.ThrowsAsync<RegionFreedException>(() => stale.GetAsync(5).AsTask());
        Assert.Contains(name, freed.Message);
        await Assert.ThrowsAsync<RegionFreedException>(() => stale.SetAsync(3, 9));
        await Assert.ThrowsAsync<RegionFreedException>(() => stale.AddAsync(0, 1));

        var successor = await Client.AllocateAsync<int>(name, 1024);
        Assert.Equal(stale.BaseAddress, successor.BaseAddress);
        await Assert.ThrowsAsync<RegionFreedException>(() => stale.SetAsync(3, 9));
        Assert.Equal(0, await successor.GetAsync(3));
    }

    [Fact]
    public async Task A_free_whose_answer_was_lost_is_sent_again_and_frees_the_region_once()
    {
        var name = UniqueNames.For("free-lost");
        var array = await Client.AllocateAsync<long>(name, 512);
        await array.SetAsync(1, 11);
        var other = await Client.AllocateAsync<long>(UniqueNames.For("free-lost-other"), 512);

        ClusterFixture.LoseResponses(nameof(IRegionDirectoryGrain.Free), 1);
        await Client.FreeAsync(name);

        Assert.Equal(0, ClusterFixture.ResponsesStillToLose(nameof(IRegionDirectoryGrain.Free)));
        await Assert.ThrowsAsync<RegionNotFoundException>(() => Client.OpenAsync<long>(name));
        await Assert.ThrowsAsync<RegionFreedException>(() => array.GetAsync(1).AsTask());
        Assert.Equal(0, await other.GetAsync(1));
    }

    [Fact]
    public async Task A_free_of_an_allocation_sent_again_after_the_name_was_given_anew_leaves_the_new_region_alone()
    {
        var name = UniqueNames.For("free-again");
        var first = await Client.AllocateAsync<long>(name, 512);
        var directory = fixture.Cluster.Client.GetGrain<IRegionDirectoryGrain>(0);
        var wait = TimeSpan.FromSeconds(5);
        var freed = await directory.Free(name, first.OwnerToken, wait, first.Region.Epoch);
        var second = await Client.AllocateAsync<long>(name, 512);
        await second.SetAsync(2, 22);

        // The same free once more, as a client whose answer was lost sends it: answered as done, and nothing else freed.
        var again = await directory.Free(name, first.OwnerToken, wait, first.Region.Epoch);

        Assert.Equal((first.Region.Epoch, first.Region.Epoch), (freed.Epoch, again.Epoch));
        Assert.True(again.Released);
        Assert.Equal(second.Region, (await Client.OpenAsync<long>(name)).Region);
        Assert.Equal(22, await second.GetAsync(2));
        // An allocation never made is no region: refused, naming it.
        var never = await Assert.ThrowsAsync<RegionNotFoundException>(() => directory.Free(name, first.OwnerToken, wait, long.MaxValue));
        Assert.Contains($"of allocation epoch {long.MaxValue}", never.Message);
        Assert.Equal(second.Region, (await Client.OpenAsync<long>(name)).Region);
    }

    [Fact]
    public async Task Freeing_an_unknown_region_is_refused()
    {
        var missing = await Assert.ThrowsAsync<RegionNotFoundException>(() => Client.FreeAsync("no-such-region"));
        Assert.Contains("no-such-region", missing.Message);
        await Assert.ThrowsAsync<RegionNotFoundException>(() => Client.OpenAsync<int>("no-such-region"));
    }

    [Fact]
    public async Task A_terabyte_region_is_allocated_at_once_and_costs_nothing_until_touched()
    {
        var rowsBefore = fixture.PageRows;
        var name = UniqueNames.For("sparse");
        var huge = await Client.AllocateAsync<long>(name, (1L << 40) / sizeof(long));

        Assert.Equal(0L, await huge.GetAsync(0));
        Assert.Equal(0L, await huge.GetAsync(huge.Length / 2));
        Assert.Equal(0L, await huge.GetAsync(huge.Length - 1));
        Assert.Equal(rowsBefore, fixture.PageRows);

        await huge.SetAsync(huge.Length - 1, 77);
        Assert.Equal(rowsBefore + 1, fixture.PageRows);
        await Client.FreeAsync(name);
        Assert.Equal(rowsBefore, fixture.PageRows);
    }
}
