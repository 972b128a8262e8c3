using OrleansDsm.Bench.Baseline;
using OrleansDsm.Bench.Harness;
using OrleansDsm.Regions;

namespace OrleansDsm.Bench.Workloads;

/// <summary>Uncached get and set throughput at 16 and 256 outstanding calls, beside the bare grain.</summary>
public static class ElementThroughput
{
    public static async Task RunAsync(BenchContext context)
    {
        const int pages = ElementLatency.Pages;
        var calls = context.Quick ? 10_000 : 30_000;
        var array = await context.Dsm.AllocateAsync<long>($"bench-throughput-{Guid.NewGuid():N}", pages * 512L, Consistency.Uncached);
        var cells = Enumerable.Range(0, pages).Select(i => context.Orleans.GetGrain<IBareCellGrain>(i)).ToArray();
        await array.WriteAsync(0, new long[pages * 512]);

        foreach (var outstanding in new[] { 16, 256 })
        {
            var subjects = new (string Name, Func<int, Task> Operation)[]
            {
                ("orleans.get", i => cells[i % pages].ReadElement(1, 8 * (i / pages % 512), 8)),
                ("dsm.get", i => array.GetAsync((i % pages) * 512L + i / pages % 512).AsTask()),
                ("orleans.set_stored", i => cells[i % pages].WriteElement(1, 8 * (i / pages % 512), 8, (ulong)i)),
                ("dsm.set", i => array.SetAsync((i % pages) * 512L + i / pages % 512, i)),
            };
            var rates = subjects.ToDictionary(s => s.Name, _ => new List<double>());
            for (var run = 0; run < context.Runs; run++)
                foreach (var (name, operation) in subjects)
                    rates[name].Add(await Measure.ThroughputAsync(operation, calls, outstanding));

            var conditions = $"{BenchContext.Setup}; region=Uncached; activations=warm; {outstanding} outstanding over {pages} pages; {calls} calls x {context.Runs} runs, median";
            foreach (var (name, _) in subjects)
                context.Report.Add($"{name}.ops_{outstanding}", Stats.Median(rates[name]), "ops/s", conditions);
            context.Report.Ratio($"dsm.get.ops_{outstanding}_vs_orleans", Stats.Median(rates["dsm.get"]), Stats.Median(rates["orleans.get"]), conditions);
            context.Report.Ratio($"dsm.set.ops_{outstanding}_vs_orleans_stored", Stats.Median(rates["dsm.set"]), Stats.Median(rates["orleans.set_stored"]), conditions);
        }
        await context.Dsm.FreeAsync(array.Name);
    }
}
