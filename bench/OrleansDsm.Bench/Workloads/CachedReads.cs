using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using OrleansDsm.Bench.Micro;

namespace OrleansDsm.Bench.Workloads;

/// <summary>Cached element and bulk reads beside a plain array, measured by BenchmarkDotNet in this process.</summary>
public static class CachedReads
{
    public static async Task RunAsync(BenchContext context)
    {
        var array = await CachedArrayAsync(context, "bench-cached");
        CachedReadBenchmarks.Array = array;
        var written = await CachedArrayAsync(context, "bench-cached-written");
        // One element of each cached page set again to its own value: the copy takes the write's change.
        for (var page = 0; page < CachedReadBenchmarks.Elements / 1024; page++) await written.SetAsync(page * 1024L + 1, page * 1024 + 1);
        CachedReadBenchmarks.WrittenArray = written;

        // In process, a run must stay short (the toolchain refuses long ones): a few warm-ups, then a fixed number of
        // iterations. A quick run takes one warm-up and iterations of 100 ms instead of BenchmarkDotNet's 500.
        var job = Job.ShortRun.WithIterationCount(context.Quick ? 3 : 10).WithToolchain(InProcessEmitToolchain.Instance);
        if (context.Quick) job = job.WithWarmupCount(1).WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(100));
        var config = ManualConfig.CreateEmpty().AddJob(job).AddLogger(NullLogger.Instance).WithOptions(ConfigOptions.DisableOptimizationsValidator);
        var summary = BenchmarkRunner.Run<CachedReadBenchmarks>(config);
        double Nanoseconds(string method) => summary.Reports.Single(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method).ResultStatistics!.Mean;

        var conditions = $"{BenchContext.Setup}; activations=warm (every page cached: a cached read makes no grain call); BenchmarkDotNet in process (ShortRun, {(context.Quick ? "3 iterations of 100 ms" : "10 iterations")}); 1 Mi int32 elements, all 1024 pages cached (Strict)";
        foreach (var (name, method) in new[] { ("local.read_sequential", "LocalSequential"), ("dsm.cached.read_sequential", "CachedSequential"), ("local.read_random", "LocalRandom"), ("local.read_random_paged", "LocalPagedRandom"), ("dsm.cached.read_random", "CachedRandom"), ("dsm.cached.read_random_written_pages", "CachedRandomWrittenPages") })
            context.Report.Add(name, Nanoseconds(method), "ns/element", conditions);
        const double megabytes = CachedReadBenchmarks.Elements * 4 / 1e6;
        context.Report.Add("local.copy_4mib", megabytes / (Nanoseconds("LocalCopy") / 1e9) / 1000, "GB/s", conditions);
        context.Report.Add("dsm.cached.bulk_read_4mib", megabytes / (Nanoseconds("CachedBulkRead") / 1e9) / 1000, "GB/s", conditions);
        context.Report.Ratio("dsm.cached.bulk_read_vs_local_copy_time", Nanoseconds("CachedBulkRead"), Nanoseconds("LocalCopy"), conditions);
        await context.Dsm.FreeAsync(array.Name);
        await context.Dsm.FreeAsync(written.Name);
    }

    /// <summary>A new Strict region of <see cref="CachedReadBenchmarks.Elements"/> int32 holding 0, 1, 2, ..., every page of it cached.</summary>
    private static async Task<OrleansDsm.Arrays.SharedArray<int>> CachedArrayAsync(BenchContext context, string prefix)
    {
        var array = await context.Dsm.AllocateAsync<int>($"{prefix}-{Guid.NewGuid():N}", CachedReadBenchmarks.Elements);
        await array.WriteAsync(0, Enumerable.Range(0, CachedReadBenchmarks.Elements).ToArray());
        for (var page = 0; page < CachedReadBenchmarks.Elements / 1024; page++) await array.GetAsync(page * 1024L);
        return array;
    }
}
