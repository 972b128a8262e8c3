using System.Diagnostics;
using OrleansDsm.Arrays;
using OrleansDsm.Bench.Baseline;
using OrleansDsm.Bench.Harness;
using OrleansDsm.Regions;
using OrleansDsm.Silo.Hosting;

namespace OrleansDsm.Bench.Workloads;

/// <summary>
/// 64 MiB in and out of a region with range calls (the first write also activates every page: cold), beside bare
/// grains that are each handed one 4 KiB page to store in the same storage: the floor of any grain-per-page write;
/// beside the same 64 KiB batches sent to and fetched from a bare grain that does nothing with them: the floor of
/// Orleans' transport; and, when redis-server is installed, the same 64 MiB through SETRANGE and GETRANGE of 64 KiB
/// chunks, pipelined.
/// </summary>
public static class BulkCopy
{
    private const int Bytes = 64 << 20;

    public static async Task RunAsync(BenchContext context)
    {
        var array = await context.Dsm.AllocateAsync<long>($"bench-bulk-{Guid.NewGuid():N}", Bytes / sizeof(long), Consistency.Uncached);
        var source = new long[Bytes / sizeof(long)];
        new Random(7).NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(source.AsSpan()));
        var destination = new long[source.Length];

        const int pages = Bytes / 4096;
        var cells = Enumerable.Range(3_000_000, pages).Select(i => context.Orleans.GetGrain<Baseline.IBareCellGrain>(i)).ToArray();
        Task WriteBarePage(int page) => cells[page].WritePage(1, System.Runtime.InteropServices.MemoryMarshal.AsBytes(source.AsSpan(page * 512, 512)).ToArray());

        // The batches of the DSM's range calls (PagedIo's sizes), each copied out of or into the caller's buffer as a
        // range call does.
        var transfer = context.Orleans.GetGrain<IBareTransferGrain>(0);
        Task AbsorbBatch(int batch) => transfer.Absorb(System.Runtime.InteropServices.MemoryMarshal.AsBytes(source.AsSpan(batch * BatchLongs, BatchLongs)).ToArray());
        async Task HandBatch(int batch) => CopyPieces((await transfer.Hand(PagesPerBatch)).Value, batch);
        void CopyPieces(byte[][] pieces, int batch)
        {
            var target = System.Runtime.InteropServices.MemoryMarshal.AsBytes(destination.AsSpan(batch * BatchLongs, BatchLongs));
            foreach (var piece in pieces)
            {
                piece.CopyTo(target);
                target = target[piece.Length..];
            }
        }

        var cold = await Measure.SecondsAsync(() => array.WriteAsync(0, source));
        var bareCold = await Measure.SecondsAsync(() => Measure.ThroughputAsync(WriteBarePage, pages, 256));
        await Measure.ThroughputAsync(AbsorbBatch, Batches, BatchesInFlight);
        var writes = new List<double>();
        var reads = new List<double>();
        var bareWrites = new List<double>();
        var transportWrites = new List<double>();
        var transportReads = new List<double>();
        for (var run = 0; run < context.Runs; run++)
        {
            writes.Add(await Measure.SecondsAsync(() => array.WriteAsync(0, source)));
            bareWrites.Add(await Measure.SecondsAsync(() => Measure.ThroughputAsync(WriteBarePage, pages, 256)));
            transportWrites.Add(await Measure.SecondsAsync(() => Measure.ThroughputAsync(AbsorbBatch, Batches, BatchesInFlight)));
        }
        // Reads run once storage has caught up with the writes (write-behind stores each page within a second), so
        // that they are not measured against the storing of 64 MiB written just before them.
        await Task.Delay(WriteBehindSettles);
        await Measure.ThroughputAsync(HandBatch, Batches, BatchesInFlight);
        for (var run = 0; run < context.Runs; run++)
        {
            transportReads.Add(await Measure.SecondsAsync(() => Measure.ThroughputAsync(HandBatch, Batches, BatchesInFlight)));
            reads.Add(await Measure.SecondsAsync(() => array.ReadAsync(0, destination)));
        }
        if (!source.AsSpan().SequenceEqual(destination)) throw new InvalidOperationException("The 64 MiB read back differs from what was written.");
        var (redisWrites, redisReads) = context.Redis is null ? (null, null) : await RedisAsync(context.Redis, source, context.Runs);

        const double megabytes = Bytes / 1e6;
        var conditions = $"{BenchContext.Setup}; region=Uncached; 64 MiB of int64 in 4 KiB pages; 256 page calls in flight";
        context.Report.Add("dsm.bulk.write_64mib.cold", megabytes / cold, "MB/s", conditions + "; activations=cold (first write)");
        context.Report.Add("dsm.bulk.write_64mib", megabytes / Stats.Median(writes), "MB/s", conditions + $"; activations=warm; median of {context.Runs}");
        context.Report.Add("dsm.bulk.read_64mib", megabytes / Stats.Median(reads), "MB/s", conditions + $"; activations=warm; runs after the writes, once write-behind has stored them; median of {context.Runs}");
        context.Report.Add("orleans.bulk.write_64mib_stored", megabytes / Stats.Median(bareWrites), "MB/s",
            $"{BenchContext.Setup}; 16384 bare grains each given one 4 KiB page to store, 256 calls in flight; activations=warm; median of {context.Runs}");
        context.Report.Ratio("dsm.bulk.write_64mib_vs_orleans_stored", Stats.Median(bareWrites), Stats.Median(writes), conditions);
        context.Report.Add("orleans.bulk.write_64mib_stored.cold", megabytes / bareCold, "MB/s",
            $"{BenchContext.Setup}; 16384 bare grains each given one 4 KiB page to store, 256 calls in flight; activations=cold (each grain's first call activates it)");
        context.Report.Ratio("dsm.bulk.write_64mib_cold_vs_orleans_stored_cold", bareCold, cold, conditions + "; activations=cold on both sides");
        var transportConditions = $"{BenchContext.Setup}; a stateless grain given the DSM's batches ({PagesPerBatch} x 4 KiB, {BatchesInFlight} in flight), which drops what it is sent and hands out arrays it holds; activations=warm; median of {context.Runs}";
        context.Report.Add("orleans.bulk.write_64mib_transport", megabytes / Stats.Median(transportWrites), "MB/s", transportConditions);
        context.Report.Add("orleans.bulk.read_64mib_transport", megabytes / Stats.Median(transportReads), "MB/s", transportConditions);
        context.Report.Ratio("dsm.bulk.write_64mib_vs_orleans_transport", Stats.Median(transportWrites), Stats.Median(writes), conditions);
        context.Report.Ratio("dsm.bulk.read_64mib_vs_orleans_transport", Stats.Median(transportReads), Stats.Median(reads), conditions);
        if (redisWrites is not null && redisReads is not null)
        {
            var redisConditions = $"{RedisPeer.Setup}; 64 MiB as one string, {Chunk / 1024} KiB SETRANGE/GETRANGE chunks, all in flight at once (pipelined); median of {context.Runs}";
            context.Report.Add("redis.bulk.write_64mib", megabytes / Stats.Median(redisWrites), "MB/s", redisConditions);
            context.Report.Add("redis.bulk.read_64mib", megabytes / Stats.Median(redisReads), "MB/s", redisConditions);
            context.Report.Ratio("dsm.bulk.write_64mib_vs_redis", Stats.Median(redisWrites), Stats.Median(writes), conditions);
            context.Report.Ratio("dsm.bulk.read_64mib_vs_redis", Stats.Median(redisReads), Stats.Median(reads), conditions);
        }
        await context.Dsm.FreeAsync(array.Name);
    }

    private const int Chunk = 64 << 10;
    private const int PagesPerBatch = PagedIo.PagesPerBatch;
    private const int BatchesInFlight = PagedIo.BatchesInFlight;
    private const int BatchLongs = PagesPerBatch * 4096 / sizeof(long);
    private const int Batches = Bytes / (PagesPerBatch * 4096);

    private static readonly TimeSpan WriteBehindSettles = SiloComposition.MemoryWriteBehind * 2;

    /// <summary>Seconds per 64 MiB written and read back through Redis, each run checked against the source.</summary>
    private static async Task<(List<double> Writes, List<double> Reads)> RedisAsync(RedisPeer redis, long[] source, int runs)
    {
        var database = await redis.ConnectAsync();
        var key = RedisPeer.FreshKey("bulk");
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(source.AsSpan()).ToArray();
        var chunks = Enumerable.Range(0, Bytes / Chunk).Select(i => new ReadOnlyMemory<byte>(bytes, i * Chunk, Chunk)).ToArray();
        var (writes, reads) = (new List<double>(), new List<double>());
        for (var run = 0; run <= runs; run++)
        {
            var written = await Measure.SecondsAsync(() => Task.WhenAll(chunks.Select((chunk, i) => database.StringSetRangeAsync(key, (long)i * Chunk, chunk))));
            var back = new byte[Bytes];
            var read = await Measure.SecondsAsync(() => Task.WhenAll(chunks.Select(async (_, i) =>
                ((byte[])(await database.StringGetRangeAsync(key, (long)i * Chunk, (long)(i + 1) * Chunk - 1))!).CopyTo(back, i * Chunk))));
            if (!back.AsSpan().SequenceEqual(bytes)) throw new InvalidOperationException("The 64 MiB read back from Redis differs from what was written.");
            // The first run creates the string and warms the connection, as the DSM's first (cold) write does its pages.
            if (run == 0) continue;
            writes.Add(written);
            reads.Add(read);
        }
        await database.KeyDeleteAsync(key);
        return (writes, reads);
    }
}
