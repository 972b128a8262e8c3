using System.Diagnostics;
using OrleansDsm.Bench.Baseline;
using OrleansDsm.Silo.Hosting;

namespace OrleansDsm.Bench.Workloads;

/// <summary>
/// What a resident page grain costs the silo beyond what storage keeps: the silo's heap with N written pages
/// active, minus its heap once those activations are collected (their stored records stay), divided by N. The bare
/// grain with the same 4 KiB persistent state, and a stateless grain, are measured the same way: the floors of a
/// grain-per-page design on Orleans.
/// </summary>
public static class ResidentPageMemory
{
    public static async Task RunAsync(BenchContext context)
    {
        var count = context.Quick ? 5_000 : 20_000;
        var array = await context.Dsm.AllocateAsync<byte>($"bench-memory-{Guid.NewGuid():N}", count * 4096L);
        var cells = Enumerable.Range(1_000_000, count).Select(i => context.Orleans.GetGrain<IBareCellGrain>(i)).ToArray();

        var (pageResident, pageStored) = await ResidentAndStoredBytesAsync(context, count,
            page => array.SetAsync(page * 4096L, 1),
            async () => await array.GetAsync((count - 1) * 4096L) == 1);
        var (cellResident, _) = await ResidentAndStoredBytesAsync(context, count,
            cell => cells[cell].WriteElement(1, 0, 8, 1),
            async () => await cells[^1].ReadElement(1, 0, 8) == 1);
        var empties = Enumerable.Range(2_000_000, count).Select(i => context.Orleans.GetGrain<IEmptyGrain>(i)).ToArray();
        var (emptyResident, _) = await ResidentAndStoredBytesAsync(context, count, i => empties[i].Touch(i), () => Task.FromResult(true));

        var conditions = $"{BenchContext.Setup}; activations=warm (all {count} active when the heap is read); {count} grains with 4096 B of state, one element written in each; managed heap after full GC";
        context.Report.Add("dsm.silo.resident_page_bytes", pageResident, "B/page", conditions);
        context.Report.Add("dsm.silo.stored_page_bytes", pageStored, "B/page", conditions + "; what memory storage keeps");
        context.Report.Add("orleans.silo.resident_grain_bytes", cellResident, "B/grain", conditions + "; bare grain, same state and storage");
        context.Report.Add("dsm.silo.resident_page_bytes_beyond_bare_grain", pageResident - cellResident, "B/page", conditions);
        context.Report.Add("orleans.silo.resident_empty_grain_bytes", emptyResident, "B/grain", $"{BenchContext.Setup}; {count} stateless grains; Orleans' own cost per activation");
        await context.Dsm.FreeAsync(array.Name);
    }

    private static async Task<(double Resident, double Stored)> ResidentAndStoredBytesAsync(
        BenchContext context, int count, Func<int, Task> write, Func<Task<bool>> survived)
    {
        var probe = context.Orleans.GetGrain<ISiloProbeGrain>(0);
        await CollectIdleActivationsAsync(context);
        var empty = await probe.HeapBytesAfterFullCollection();
        await Task.WhenAll(Enumerable.Range(0, count).Select(write));
        // Pages store their writes up to a second later (write-behind): the heap is read once storage holds them all,
        // as it does once they are collected, or the difference would leave out storage's copies of the pages not yet stored.
        await Task.Delay(WriteBehindSettles);
        var resident = await probe.HeapBytesAfterFullCollection();
        await CollectIdleActivationsAsync(context);
        var storedOnly = await probe.HeapBytesAfterFullCollection();
        if (!await survived())
            throw new InvalidOperationException("A grain lost its state when its activation was collected: the measurement would be wrong.");
        return ((double)(resident - storedOnly) / count, (double)(storedOnly - empty) / count);
    }

    // Three of the bench silo's write-behind intervals: a page stores its change within one, 20,000 pages in a few.
    private static readonly TimeSpan WriteBehindSettles = SiloComposition.MemoryWriteBehind * 3;

    /// <summary>
    /// Collects every idle activation and waits until the silo's count of activations has held still for two seconds
    /// (at most 60 s in all): deactivations run after the call returns, and a heap read while some are left would
    /// count their pages as storage's.
    /// </summary>
    private static async Task CollectIdleActivationsAsync(BenchContext context)
    {
        var management = context.Orleans.GetGrain<IManagementGrain>(0);
        await management.ForceActivationCollection(TimeSpan.Zero);
        var (last, unchanged, waited) = (await management.GetTotalActivationCount(), Stopwatch.StartNew(), Stopwatch.StartNew());
        while (unchanged.Elapsed < TimeSpan.FromSeconds(2))
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(60)) throw new InvalidOperationException($"The silo's activations kept changing for a minute after a collection ({last} at the last count).");
            await Task.Delay(TimeSpan.FromMilliseconds(250));
            var now = await management.GetTotalActivationCount();
            if (now == last) continue;
            last = now;
            unchanged.Restart();
        }
    }
}
