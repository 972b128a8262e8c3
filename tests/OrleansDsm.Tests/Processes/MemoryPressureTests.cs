using System.Diagnostics;
using OrleansDsm.Connection;

namespace OrleansDsm.Tests.Processes;

/// <summary>
/// A real silo whose GC may use only 200 MiB, filled with pages until it is full: it sheds idle page activations
/// (storing them first, so nothing is lost), then refuses writes that need new pages with a clear error instead of
/// dying, keeps serving reads and writes of kept pages, and takes new pages again once a region is freed.
/// </summary>
public sealed class MemoryPressureTests
{
    private const int PagesPerChunk = 64;
    private const int ChunkBytes = PagesPerChunk * 4096;
    private const int MostChunks = 2000; // 500 MiB: far more than the silo can hold, so the loop ends by refusal

    [Fact]
    public async Task A_full_silo_sheds_idle_pages_refuses_new_ones_clearly_keeps_serving_and_recovers_after_a_free()
    {
        await using var silo = await SiloProcess.StartWithEnvironmentAsync(
            new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = "0xC800000" },
            "--Silo:Dashboard=false", "--Dsm:MemorySheddingPercent=50", "--Dsm:MemoryRefusalPercent=75");
        await using var raw = await RawOrleansClient.ConnectAsync(silo.Gateway);
        await using var client = new DsmClient(raw.Grains, new DsmClientOptions { CacheBytes = 0 });
        var array = await client.AllocateAsync<byte>(UniqueNames.For("pressure"), (long)MostChunks * ChunkBytes);

        MemoryPressureException? refused = null;
        var written = 0;
        var clock = Stopwatch.StartNew();
        for (; written < MostChunks && clock.Elapsed < TimeSpan.FromMinutes(2); written++)
        {
            try
            {
                await array.WriteAsync((long)written * ChunkBytes, Chunk(written));
            }
            catch (MemoryPressureException error)
            {
                refused = error;
                break;
            }
        }

        Assert.NotNull(refused);
        Assert.Contains("Dsm:MemoryRefusalPercent", refused.Message);
        Assert.Contains("is not written, so the write was refused", refused.Message);
        Assert.False(silo.HasExited, silo.Output);
        Assert.InRange(written, 10, MostChunks - 1);

        // Serving goes on: a kept page takes writes, and every chunk written before the refusal reads back whole,
        // including those whose pages were shed and come back from storage.
        await array.SetAsync(5, 99);
        Assert.Equal(99, await array.GetAsync(5));
        var read = new byte[ChunkBytes];
        foreach (var chunk in new[] { 1, written / 2, written - 1 })
        {
            await array.ReadAsync((long)chunk * ChunkBytes, read);
            Assert.True(read.AsSpan().SequenceEqual(Chunk(chunk)), $"chunk {chunk} of {written} did not read back");
        }
        // Orleans looks at memory every few seconds: a fast machine can fill the silo before its first look, so the
        // shedding is awaited (bounded) rather than expected to have happened already.
        var management = raw.Grains.GetGrain<IManagementGrain>(0);
        var shedding = Stopwatch.StartNew();
        int pagesActive;
        while ((pagesActive = (await management.GetSimpleGrainStatistics())
                   .Where(statistic => statistic.GrainType.Contains("PageGrain", StringComparison.Ordinal)).Sum(statistic => statistic.ActivationCount))
               >= written * PagesPerChunk && shedding.Elapsed < TimeSpan.FromSeconds(30))
            await Task.Delay(500);
        Assert.True(pagesActive < written * PagesPerChunk, $"{pagesActive} page activations for {written * PagesPerChunk} pages written: none was shed within 30 s");

        await client.FreeAsync(array.Name);
        var fresh = await client.AllocateAsync<byte>(UniqueNames.For("after-free"), ChunkBytes);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await fresh.WriteAsync(0, Chunk(7));
                break;
            }
            catch (MemoryPressureException) when (deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(500);
            }
        }
        await fresh.ReadAsync(0, read);
        Assert.True(read.AsSpan().SequenceEqual(Chunk(7)));
        Assert.False(silo.HasExited);
    }

    /// <summary>Chunk <paramref name="index"/>'s bytes: different in every chunk, and nowhere zero.</summary>
    private static byte[] Chunk(int index)
    {
        var bytes = new byte[ChunkBytes];
        for (var i = 0; i < bytes.Length; i++) bytes[i] = (byte)(1 + (i * 31 + index * 7) % 255);
        return bytes;
    }
}
