using OrleansDsm.Bench.Baseline;
using OrleansDsm.Bench.Harness;

namespace OrleansDsm.Bench.Workloads;

/// <summary>
/// An uncontended lock acquire plus release, beside a bare grain call with an element's payload, taking turns in
/// small blocks. Acquiring stores the new fencing token before it is granted, so it costs a storage write as well.
/// </summary>
public static class LockRoundTrip
{
    private const int Locks = 100;

    public static async Task RunAsync(BenchContext context)
    {
        var calls = context.Quick ? 1000 : 3000;
        var prefix = $"bench-lock-{Guid.NewGuid():N}";
        var locks = Enumerable.Range(0, Locks).Select(i => context.Dsm.Lock($"{prefix}-{i}")).ToArray();
        var cells = Enumerable.Range(0, Locks).Select(i => context.Orleans.GetGrain<IBareCellGrain>(i)).ToArray();
        // Warm: every lock and cell activated once.
        foreach (var (shared, cell) in locks.Zip(cells))
        {
            await (await shared.AcquireAsync()).DisposeAsync();
            await cell.ReadElement(1, 0, 8);
        }

        var subjects = new List<Func<int, Task>>
        {
            i => cells[i % Locks].ReadElement(1, 8 * (i % 512), 8),
            async i => await (await locks[i % Locks].AcquireAsync()).DisposeAsync(),
        };
        var bare = new List<double>();
        var locked = new List<double>();
        for (var run = 0; run < context.Runs; run++)
        {
            var latencies = await Measure.InterleavedLatenciesAsync(subjects, calls);
            bare.Add(Stats.Percentile(latencies[0], 0.50));
            locked.Add(Stats.Percentile(latencies[1], 0.50));
        }

        var conditions = $"{BenchContext.Setup}; activations=warm (every lock and cell used once first); {Locks} locks, uncontended; acquire + release (dispose) vs one bare grain call; subjects interleaved in blocks of 25; {calls} calls x {context.Runs} runs, median";
        context.Report.Add("orleans.call.p50", Stats.Median(bare), "us", conditions);
        context.Report.Add("dsm.lock.acquire_release.p50", Stats.Median(locked), "us", conditions);
        context.Report.Ratio("dsm.lock.acquire_release_vs_orleans_call", Stats.Median(locked), Stats.Median(bare), conditions);
    }
}
