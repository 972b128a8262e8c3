using System.Runtime.InteropServices;

namespace OrleansDsm.Tests.Regions;

/// <summary>Every bad call fails with an error that names what was wrong, and leaves memory, the catalogue and storage as they were.</summary>
[Collection(ClusterCollection.Name)]
public sealed class RejectedCallTests(ClusterFixture fixture)
{
    private DsmClient Client => fixture.Client;

    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    private struct Rgb { public byte R, G, B; }

    private struct Quad { public long A, B, C, D; }

    [Fact]
    public async Task Opening_with_another_element_type_names_both_types()
    {
        var name = UniqueNames.For("typed");
        await Client.AllocateAsync<int>(name, 10);

        var asDouble = await Assert.ThrowsAsync<RegionMismatchException>(() => Client.OpenAsync<double>(name));
        Assert.Contains("int32", asDouble.Message);
        Assert.Contains("float64", asDouble.Message);
        var asUInt = await Assert.ThrowsAsync<RegionMismatchException>(() => Client.OpenOrCreateAsync<uint>(name, 10));
        Assert.Contains("uint32", asUInt.Message);
        var otherLength = await Assert.ThrowsAsync<RegionMismatchException>(() => Client.OpenOrCreateAsync<int>(name, 11));
        Assert.Contains("11", otherLength.Message);
    }

    [Fact]
    public async Task Element_sizes_that_do_not_divide_the_page_are_refused()
    {
        await AssertNothingChanges(async () =>
        {
            var three = await Assert.ThrowsAsync<ArgumentException>(() => Client.AllocateAsync<Rgb>(UniqueNames.For("rgb"), 10));
            Assert.Contains("3 bytes", three.Message);
            Assert.Contains("4096", three.Message);
        });
        var quad = await Client.AllocateAsync<Quad>(UniqueNames.For("quad"), 300);
        await quad.SetAsync(299, new Quad { A = 1, B = 2, C = 3, D = 4 });
        Assert.Equal(4, (await quad.GetAsync(299)).D);
    }

    [Fact]
    public async Task An_allocation_past_the_quota_is_refused_and_reserves_nothing()
    {
        await AssertNothingChanges(async () =>
        {
            var refused = await Assert.ThrowsAsync<QuotaExceededException>(
                () => Client.AllocateAsync<byte>(UniqueNames.For("toobig"), 2 * ClusterFixture.QuotaBytes));
            Assert.Contains("quota", refused.Message);
        });
    }

    [Fact]
    public async Task Names_are_unique_and_validated()
    {
        var name = UniqueNames.For("unique");
        await Client.AllocateAsync<int>(name, 5);
        await AssertNothingChanges(async () =>
        {
            var taken = await Assert.ThrowsAsync<RegionExistsException>(() => Client.AllocateAsync<int>(name, 5));
            Assert.Contains(name, taken.Message);
            foreach (var bad in new[] { "", " space", "slash/name", "-leading", new string('x', 129), "ünicode" })
                await Assert.ThrowsAsync<ArgumentException>(() => Client.AllocateAsync<int>(bad, 5));
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Client.AllocateAsync<int>(UniqueNames.For("empty"), 0));
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Client.AllocateAsync<int>(UniqueNames.For("negative"), -5));
        });
    }

    [Fact]
    public async Task Out_of_range_indices_name_the_index_and_the_length_and_change_nothing()
    {
        var array = await Client.AllocateAsync<int>(UniqueNames.For("bounds"), 1500);
        await array.WriteAsync(0, Enumerable.Range(1, 1500).ToArray());

        await AssertNothingChanges(async () =>
        {
            var high = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => array.SetAsync(1500, 1));
            Assert.Contains("1500", high.Message);
            Assert.Contains("length 1500", high.Message);
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => array.GetAsync(-1).AsTask());
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => array.AddAsync(long.MaxValue, 1));
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => array.ExchangeAsync(1500, 1));
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => array.CompareExchangeAsync(-7, 1, 0));
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => array.WriteAsync(1499, new int[2]));
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => array.ReadAsync(-1, new int[2]));
            Assert.Throws<ArgumentOutOfRangeException>(() => array[1500] = 5);
        });
        var contents = new int[1500];
        await array.ReadAsync(0, contents);
        Assert.Equal(Enumerable.Range(1, 1500), contents);
    }

    [Fact]
    public async Task Atomics_on_types_pages_cannot_add_are_refused_before_any_call()
    {
        var bytes = await Client.AllocateAsync<byte>(UniqueNames.For("bytes"), 16);
        await bytes.SetAsync(3, 200);
        await AssertNothingChanges(async () =>
        {
            var refused = await Assert.ThrowsAsync<NotSupportedException>(() => bytes.AddAsync(3, 1));
            Assert.Contains("Byte", refused.Message);
        });
        Assert.Equal(200, await bytes.GetAsync(3));
    }

    [Fact]
    public async Task Raw_byte_access_outside_every_region_is_refused()
    {
        var array = await Client.AllocateAsync<byte>(UniqueNames.For("raw-edge"), 100);
        await AssertNothingChanges(async () =>
        {
            var past = await Assert.ThrowsAsync<RegionNotFoundException>(() => Client.WriteAsync(array.BaseAddress + 90, new byte[20]));
            Assert.Contains("run past the end", past.Message);
            await Assert.ThrowsAsync<RegionNotFoundException>(() => Client.ReadAsync(new GlobalAddress(1UL << 61), new byte[4]));
        });
    }

    [Fact]
    public async Task A_restore_from_a_stream_that_cannot_seek_is_refused_before_reading_it()
    {
        await AssertNothingChanges(async () =>
        {
            await using var unseekable = new System.IO.Compression.GZipStream(new MemoryStream(), System.IO.Compression.CompressionMode.Decompress);
            var refused = await Assert.ThrowsAsync<ArgumentException>(() => Client.RestoreAsync(unseekable));
            Assert.Contains("seekable stream", refused.Message);
        });
    }

    /// <summary>Runs <paramref name="rejectedCalls"/> and checks that the catalogue, quota use and stored pages are untouched.</summary>
    private async Task AssertNothingChanges(Func<Task> rejectedCalls)
    {
        var directory = fixture.Cluster.Client.GetGrain<IRegionDirectoryGrain>(0);
        var before = await directory.GetState();
        var rowsBefore = fixture.PageRows;

        await rejectedCalls();

        var after = await directory.GetState();
        Assert.Equal(before.ReservedBytes, after.ReservedBytes);
        Assert.Equal(before.Regions, after.Regions);
        Assert.Equal(rowsBefore, fixture.PageRows);
    }
}
