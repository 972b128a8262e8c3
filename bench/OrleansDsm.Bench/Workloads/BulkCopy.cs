using System.Diagnostics;
using OrleansDsm.Bench.Harness;
using OrleansDsm.Regions;

namespace OrleansDsm.Bench.Workloads;

/// <summary>
/// 64 MiB in and out of a region with range calls (the first write also activates every page: cold), beside bare
/// grains that are each handed one 4 KiB page to store in the same storage: the floor of any grain-per-page write.
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

        var cold = await TimeAsync(() => array.WriteAsync(0, source));
        await Measure.ThroughputAsync(WriteBarePage, pages, 256);
        var writes = new List<double>();
        var reads = new List<double>();
        var bareWrites = new List<double>();
        for (var run = 0; run < context.Runs; run++)
        {
            writes.Add(await TimeAsync(() => array.WriteAsync(0, source)));
            bareWrites.Add(await TimeAsync(() => Measure.ThroughputAsync(WriteBarePage, pages, 256)));
            reads.Add(await TimeAsync(() => array.ReadAsync(0, destination)));
        }
        if (!source.AsSpan().SequenceEqual(destination)) throw new InvalidOperationException("The 64 MiB read back differs from what was written.");

        const double megabytes = Bytes / 1e6;
        var conditions = $"{BenchContext.Setup}; region=Uncached; 64 MiB of int64 in 4 KiB pages; 256 page calls in flight";
        context.Report.Add("dsm.bulk.write_64mib.cold", megabytes / cold, "MB/s", conditions + "; activations=cold (first write)");
        context.Report.Add("dsm.bulk.write_64mib", megabytes / Stats.Median(writes), "MB/s", conditions + $"; activations=warm; median of {context.Runs}");
        context.Report.Add("dsm.bulk.read_64mib", megabytes / Stats.Median(reads), "MB/s", conditions + $"; activations=warm; median of {context.Runs}");
        context.Report.Add("orleans.bulk.write_64mib_stored", megabytes / Stats.Median(bareWrites), "MB/s",
            $"{BenchContext.Setup}; 16384 bare grains each given one 4 KiB page to store, 256 calls in flight; activations=warm; median of {context.Runs}");
        context.Report.Ratio("dsm.bulk.write_64mib_vs_orleans_stored", Stats.Median(bareWrites), Stats.Median(writes), conditions);
        await context.Dsm.FreeAsync(array.Name);
    }

    private static async Task<double> TimeAsync(Func<Task> transfer)
    {
        var start = Stopwatch.GetTimestamp();
        await transfer();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
}
