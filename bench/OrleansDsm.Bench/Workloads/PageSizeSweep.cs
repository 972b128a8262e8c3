using OrleansDsm.Bench.Harness;
using OrleansDsm.Connection;
using OrleansDsm.Regions;

namespace OrleansDsm.Bench.Workloads;

/// <summary>
/// The page size, swept from 512 B to 1 MiB, each size on a silo of its own (the page size is the cluster's): what an
/// element call, a cache fill and a 64 MiB copy (16 MiB in a quick run) cost at each size, and how much two clients that write elements 2 KiB
/// apart get in each other's way once those fall in one page (false sharing). Prints the size that does best overall
/// by the rule stated beside it.
/// </summary>
public static class PageSizeSweep
{
    private static readonly int[] Sizes = [512, 4096, 16384, 65536, 1 << 20];

    public static async Task RunAsync(BenchContext context)
    {
        var runs = context.Runs;
        // A quick run copies a quarter: at 512 B pages, 64 MiB is 131,072 page calls each way, a run's longest leg.
        var bytes = context.Quick ? 16 << 20 : 64 << 20;
        var mebibytes = bytes >> 20;
        // Gets, fills and false-sharing operations a run, each; a quick run makes a quarter.
        var calls = context.Quick ? 500 : 2000;
        var source = new long[bytes / sizeof(long)];
        new Random(11).NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(source.AsSpan()));
        var destination = new long[source.Length];
        // Every size's silo runs for the whole sweep and the sizes take turns within each run, so that the noise of
        // this shared machine falls on all of them alike.
        var silos = await Task.WhenAll(Sizes.Select(size => BenchSiloProcess.StartMemoryAsync($"bench-page-{size}", size)));
        var subjects = new List<Subject>();
        try
        {
            foreach (var (size, silo) in Sizes.Zip(silos))
            {
                // No prefetch: a fill is measured alone, not hidden behind one that a sequential read started.
                var options = new DsmClientOptions { Gateways = [silo.Gateway], ClusterId = $"bench-page-{size}", ServiceId = $"bench-page-{size}", PrefetchPages = 0 };
                var (client, other) = (await DsmClient.ConnectAsync(options), await DsmClient.ConnectAsync(options));
                var bulk = await client.AllocateAsync<long>($"sweep-bulk-{size}", source.Length, Consistency.Uncached);
                await bulk.WriteAsync(0, source); // activates every page: the figures below are warm
                subjects.Add(new Subject(size, client, other, bulk));
            }
            for (var run = -1; run < runs; run++)
            {
                var gets = await Measure.InterleavedLatenciesAsync(
                    subjects.Select(subject => (Func<int, Task>)(i => subject.Bulk.GetAsync((long)i * 7919 % source.Length).AsTask())).ToList(), calls);
                // The regions a run made are freed together at its end: each free waits out the region lease, and one
                // after the other they took longer than the run's figures.
                var made = new List<(DsmClient Owner, string Name)>();
                foreach (var (subject, get) in subjects.Zip(gets))
                {
                    var fill = await FillLatenciesAsync(subject.Other, subject.Client, subject.Size, FillPages(subject.Size, calls), made);
                    var write = await Measure.SecondsAsync(() => subject.Bulk.WriteAsync(0, source));
                    var read = await Measure.SecondsAsync(() => subject.Bulk.ReadAsync(0, destination));
                    if (!source.AsSpan().SequenceEqual(destination)) throw new InvalidOperationException($"{mebibytes} MiB read back at {subject.Size} B pages differs from what was written.");
                    var sharing = await FalseSharingAsync(subject.Client, subject.Other, subject.Size, calls, made);
                    if (run < 0) continue; // the first run warms every path
                    subject.Gets.Add(Stats.Percentile(get, 0.5));
                    subject.Fills.Add(Stats.Percentile(fill, 0.5));
                    subject.Writes.Add(bytes / 1e6 / write);
                    subject.Reads.Add(bytes / 1e6 / read);
                    subject.Shared.Add(sharing);
                }
                await Task.WhenAll(made.Select(region => region.Owner.FreeAsync(region.Name)));
            }
        }
        finally
        {
            foreach (var subject in subjects)
            {
                await subject.Client.DisposeAsync();
                await subject.Other.DisposeAsync();
            }
            foreach (var silo in silos) await silo.DisposeAsync();
        }

        var figures = subjects.ToDictionary(subject => subject.Size, subject =>
            (Get: Stats.Median(subject.Gets), Fill: Stats.Median(subject.Fills), Write: Stats.Median(subject.Writes), Read: Stats.Median(subject.Reads), Shared: Stats.Median(subject.Shared)));
        foreach (var size in Sizes)
        {
            var conditions = $"storage=memory (in the silo, binary, write-behind 1 s); silos=1, a silo of its own with Dsm:PageSize={size}, beside the other sizes' silos, taking turns with them; client process -> silo over loopback; activations=warm; median of {runs} runs after a warm-up run";
            context.Report.Add($"sweep.page_{size}.get.p50", figures[size].Get, "us", conditions + $"; uncached element get, 1 outstanding, {calls} calls a run, interleaved with the other sizes in blocks of 25");
            context.Report.Add($"sweep.page_{size}.fill.p50", figures[size].Fill, "us", conditions + $"; a cached read that misses: one page fetched whole into the cache, 1 outstanding, {FillPages(size, calls)} pages a run");
            context.Report.Add($"sweep.page_{size}.bulk_write_{mebibytes}mib", figures[size].Write, "MB/s", conditions + $"; WriteAsync of {mebibytes} MiB, Uncached region");
            context.Report.Add($"sweep.page_{size}.bulk_read_{mebibytes}mib", figures[size].Read, "MB/s", conditions + $"; ReadAsync of {mebibytes} MiB, Uncached region");
            context.Report.Add($"sweep.page_{size}.false_sharing.ops", figures[size].Shared, "ops/s",
                conditions + $"; 2 clients, each reading then writing its own element of a Strict region, the two elements 2 KiB apart, 1 outstanding each, {calls} operations a run");
        }

        // The rule: each size scores the geometric mean of its five figures' ratios to the best size's (each taken the
        // right way up: lower latency, higher rate), so every figure counts alike and a size that wins bulk copies but
        // costs fills or false sharing dearly does not win. Only sizes a mapping can use (multiples of the OS page) may
        // be recommended.
        double Score(int size)
        {
            var f = figures[size];
            double[] ratios =
            [
                Sizes.Min(s => figures[s].Get) / f.Get, Sizes.Min(s => figures[s].Fill) / f.Fill, f.Write / Sizes.Max(s => figures[s].Write),
                f.Read / Sizes.Max(s => figures[s].Read), f.Shared / Sizes.Max(s => figures[s].Shared),
            ];
            return Math.Exp(ratios.Average(Math.Log));
        }
        foreach (var size in Sizes)
            context.Report.Add($"sweep.page_{size}.score", Score(size), "x", "geometric mean of the five figures' ratios to the best size's (1 = best at everything)");
        var recommended = Sizes.Where(size => size % Environment.SystemPageSize == 0).MaxBy(Score);
        context.Report.Add("sweep.recommended_page_size", recommended, "B",
            $"the highest score among the sizes a mapping can use (multiples of the OS page, {Environment.SystemPageSize} B)");
    }

    /// <summary>Each run's fills read pages of a fresh region that nobody has cached: up to <paramref name="calls"/> pages, at most 16 MiB.</summary>
    private static int FillPages(int size, int calls) => Math.Min(calls, (16 << 20) / size);

    private sealed record Subject(int Size, DsmClient Client, DsmClient Other, OrleansDsm.Arrays.SharedArray<long> Bulk)
    {
        public List<double> Gets { get; } = [];
        public List<double> Fills { get; } = [];
        public List<double> Writes { get; } = [];
        public List<double> Reads { get; } = [];
        public List<double> Shared { get; } = [];
    }

    /// <summary>
    /// Latencies of cache fills, sorted: <paramref name="reader"/> reads one element of each page of a fresh Strict
    /// region that <paramref name="writer"/> has written, so every read fetches a whole page of bytes into its cache.
    /// The region is added to <paramref name="made"/>, to be freed.
    /// </summary>
    private static async Task<List<double>> FillLatenciesAsync(DsmClient writer, DsmClient reader, int size, int pages, List<(DsmClient, string)> made)
    {
        var elementsPerPage = size / sizeof(long);
        var name = $"sweep-fill-{size}-{Guid.NewGuid():N}";
        var written = await writer.AllocateAsync<long>(name, (long)pages * elementsPerPage);
        made.Add((writer, name));
        await written.WriteAsync(0, Enumerable.Range(1, pages * elementsPerPage).Select(i => (long)i).ToArray());
        var read = await reader.OpenAsync<long>(name);
        var latencies = (await Measure.InterleavedLatenciesAsync([async page =>
        {
            if (await read.GetAsync((long)page * elementsPerPage) != (long)page * elementsPerPage + 1)
                throw new InvalidOperationException($"A fill at {size} B pages read a wrong value.");
        }], pages))[0];
        return latencies;
    }

    /// <summary>
    /// Operations a second from two clients, each reading then writing its own element of a Strict region (each
    /// client's read is served from its cache until the other's write revokes the copy), the elements 2 KiB apart.
    /// The region is added to <paramref name="made"/>, to be freed.
    /// </summary>
    private static async Task<double> FalseSharingAsync(DsmClient first, DsmClient second, int size, int operations, List<(DsmClient, string)> made)
    {
        var name = $"sweep-sharing-{size}-{Guid.NewGuid():N}";
        var a = await first.AllocateAsync<long>(name, 1024);
        made.Add((first, name));
        var b = await second.OpenAsync<long>(name);
        return 2 * operations / await Measure.SecondsAsync(() => Task.WhenAll(ReadWriteAsync(a, 0), ReadWriteAsync(b, 256))); // 256 longs = 2 KiB apart

        async Task ReadWriteAsync(OrleansDsm.Arrays.SharedArray<long> array, long index)
        {
            for (var i = 0; i < operations / 2; i++)
            {
                var value = await array.GetAsync(index);
                await array.SetAsync(index, value + 1);
            }
        }
    }
}
