using System.Diagnostics;
using OrleansDsm.Bench.Harness;
using OrleansDsm.Connection;
using OrleansDsm.Mapping;

namespace OrleansDsm.Bench.Workloads;

/// <summary>
/// A region mapped into this process (issue 8): the cost of a first-touch fault beside an uncached page read through
/// the client, the first touch of pages in order when the pager reads ahead, and loads from present pages beside the
/// same loads from a plain array.
/// </summary>
public static class MappedMemory
{
    public static async Task RunAsync(BenchContext context)
    {
        var pages = context.Quick ? 1024 : 4096;
        const int LongsPerPage = 512;
        // A mapping's pager repeats its client's connection, so this client makes its own.
        await using var client = await DsmClient.ConnectAsync(new DsmClientOptions { Gateways = [context.Gateway], ClusterId = "default", ServiceId = "default", CacheBytes = 0 });
        var array = await client.AllocateAsync<long>($"bench-mapped-{Guid.NewGuid():N}", (long)pages * LongsPerPage);
        var plain = Enumerable.Range(0, pages * LongsPerPage).Select(i => (long)i).ToArray();
        await array.WriteAsync(0, plain);
        var conditions = $"{BenchContext.Setup}; activations=warm (every page written first); {pages} pages of 4 KiB ({pages * 4 / 1024} MiB of int64), pages in order, one thread; two warm-up rounds, then {context.Runs} rounds alternating reads and faults, median";

        // Rounds alternate a pass of page reads and a pass of faults, so that both meet the same machine; the first
        // two rounds warm both paths (code compiled, connections made, the silo's fill path tiered up) and are not counted.
        var reads = new List<double>();
        var faults = new List<double>();
        var readAhead = new List<double>();
        var present = new List<double>();
        var local = new List<double>();
        var page = new long[LongsPerPage];
        for (var round = -2; round < context.Runs; round++)
        {
            var clock = Stopwatch.StartNew();
            for (var p = 0; p < pages; p++) await array.ReadAsync((long)p * LongsPerPage, page);
            var read = clock.Elapsed.TotalMicroseconds / pages;

            await using var mapped = await array.MapAsync();
            clock.Restart();
            var touched = TouchEveryPage(mapped, pages, LongsPerPage);
            var fault = clock.Elapsed.TotalMicroseconds / pages;
            var statistics = await mapped.GetStatisticsAsync();
            if (statistics.MissingFaults != pages || touched != plain.Where((_, i) => i % LongsPerPage == 0).Sum())
                throw new InvalidOperationException($"The mapping served {statistics.MissingFaults} faults for {pages} pages, or read wrong values.");

            await using var ahead = await array.MapAsync(new MappingOptions { ReadAheadPages = ReadAheadPages });
            clock.Restart();
            var touchedAhead = TouchEveryPage(ahead, pages, LongsPerPage);
            var firstTouch = clock.Elapsed.TotalMicroseconds / pages;
            var aheadStatistics = await ahead.GetStatisticsAsync();
            if (aheadStatistics.MissingFaults + aheadStatistics.ReadAheadPages != pages || touchedAhead != touched)
                throw new InvalidOperationException($"The mapping reading ahead took in {aheadStatistics.MissingFaults} + {aheadStatistics.ReadAheadPages} pages for {pages}, or read wrong values.");
            if (round < 0) continue;
            reads.Add(read);
            faults.Add(fault);
            readAhead.Add(firstTouch);
            present.Add(NanosecondsPerElement(() => Sum(mapped.GetSpan(0, plain.Length)), plain.Length));
            local.Add(NanosecondsPerElement(() => Sum(plain), plain.Length));
        }
        await client.FreeAsync(array.Name);

        context.Report.Add("dsm.uncached.page_read", Stats.Median(reads), "us", conditions + "; SharedArray.ReadAsync of one page, cache off");
        context.Report.Add("dsm.mapped.first_touch_fault", Stats.Median(faults), "us", conditions + "; one load per page of a fresh mapping, each a missing-page fault the pager serves");
        context.Report.Ratio("dsm.mapped.fault_vs_uncached_page_read", Stats.Median(faults), Stats.Median(reads), conditions);
        var aheadConditions = $"{conditions}; MappingOptions.ReadAheadPages={ReadAheadPages}: a fault on the page after the last, or just past the last stretch read ahead, fetches the next {ReadAheadPages} pages too";
        context.Report.Add("dsm.mapped.first_touch_read_ahead", Stats.Median(readAhead), "us", aheadConditions + "; one load per page of a fresh mapping, in order, per page");
        context.Report.Ratio("dsm.mapped.first_touch_read_ahead_vs_uncached_page_read", Stats.Median(readAhead), Stats.Median(reads), aheadConditions);
        context.Report.Add("local.sum_int64", Stats.Median(local), "ns/element", conditions + "; the best of 5 sums over a plain long[]");
        context.Report.Add("dsm.mapped.present_sum_int64", Stats.Median(present), "ns/element", conditions + "; the best of 5 sums over the mapped span, every page present");
        context.Report.Ratio("dsm.mapped.present_read_vs_local", Stats.Median(present), Stats.Median(local), conditions);
    }

    private const int ReadAheadPages = 8;

    private static long TouchEveryPage(MappedRegion<long> mapped, int pages, int longsPerPage)
    {
        var span = mapped.GetSpan(0, pages * longsPerPage);
        long sum = 0;
        for (var p = 0; p < pages; p++) sum += span[p * longsPerPage];
        return sum;
    }

    private static long Sum(ReadOnlySpan<long> values)
    {
        long sum = 0;
        foreach (var value in values) sum += value;
        return sum;
    }

    /// <summary>The best of five timed passes, in nanoseconds per element: the floor, not the noise of a shared machine.</summary>
    private static double NanosecondsPerElement(Func<long> pass, int elements)
    {
        var best = double.MaxValue;
        for (var i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            GC.KeepAlive(pass());
            best = Math.Min(best, clock.Elapsed.TotalNanoseconds / elements);
        }
        return best;
    }
}
