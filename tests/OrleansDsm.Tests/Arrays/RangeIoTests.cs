using CsCheck;

namespace OrleansDsm.Tests.Arrays;

/// <summary>Range reads and writes across page boundaries agree with a plain local array.</summary>
[Collection(ClusterCollection.Name)]
public sealed class RangeIoTests(ClusterFixture fixture)
{
    private DsmClient Client => fixture.Client;

    [Fact]
    public async Task Random_range_writes_and_reads_match_a_local_array()
    {
        const int length = 5 * 1024 + 37; // int32 elements: five pages and a part
        var shared = await Client.AllocateAsync<int>(UniqueNames.For("ranges"), length);
        var model = new int[length];

        var operation =
            from start in Gen.Int[0, length - 1]
            from count in Gen.Int[0, Math.Min(length - start, 3 * 1024)]
            from seed in Gen.Int
            from isWrite in Gen.Bool
            select (start, count, seed, isWrite);

        await operation.SampleAsync(async (start, count, seed, isWrite) =>
        {
            if (isWrite)
            {
                var values = new int[count];
                new Random(seed).NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
                await shared.WriteAsync(start, values);
                values.CopyTo(model, start);
            }
            var read = new int[count];
            await shared.ReadAsync(start, read);
            Assert.Equal(model.AsSpan(start, count).ToArray(), read);
        }, iter: 60, threads: 1);

        var whole = new int[length];
        await shared.ReadAsync(0, whole);
        Assert.Equal(model, whole);
    }

    [Fact]
    public async Task Raw_bytes_address_the_same_memory_as_the_typed_view()
    {
        var shared = await Client.AllocateAsync<ushort>(UniqueNames.For("raw"), 4096);
        var bytes = Enumerable.Range(0, 3000).Select(i => (byte)(i * 7)).ToArray();

        // 3000 bytes from byte 4000 span the first page boundary at 4096.
        await Client.WriteAsync(shared.BaseAddress + 4000, bytes);

        var back = new byte[3000];
        await Client.ReadAsync(shared.BaseAddress + 4000, back);
        Assert.Equal(bytes, back);
        Assert.Equal((ushort)(bytes[0] | bytes[1] << 8), await shared.GetAsync(2000));
    }

    [Fact]
    public async Task Sparse_pages_read_as_zero_between_written_ones()
    {
        var shared = await Client.AllocateAsync<double>(UniqueNames.For("holes"), 10 * 512);
        await shared.SetAsync(0, 1.5);
        await shared.SetAsync(9 * 512, 2.5);

        var all = new double[10 * 512];
        await shared.ReadAsync(0, all);

        Assert.Equal(1.5, all[0]);
        Assert.Equal(2.5, all[9 * 512]);
        Assert.Equal(2, all.Count(value => value != 0));
    }
}
