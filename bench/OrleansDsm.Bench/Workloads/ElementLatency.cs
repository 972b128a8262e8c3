using OrleansDsm.Bench.Baseline;
using StackExchange.Redis;
using OrleansDsm.Bench.Harness;
using OrleansDsm.Regions;

namespace OrleansDsm.Bench.Workloads;

/// <summary>
/// Uncached single-element get, set, add and compare-exchange with one call outstanding, beside a bare grain call with
/// the same payload (and, for set, the same page-sized state write to the same storage), and Redis GET, SET and INCRBY
/// of 8-byte values when redis-server is installed. Subjects take turns in small blocks so that noise on this shared
/// machine falls on all alike; each figure is the median of the runs' percentiles.
/// </summary>
public static class ElementLatency
{
    public const int Pages = 1000;

    public static async Task RunAsync(BenchContext context)
    {
        var calls = context.Quick ? 1500 : 4000;
        var array = await context.Dsm.AllocateAsync<long>($"bench-latency-{Guid.NewGuid():N}", Pages * 512L, Consistency.Uncached);
        var cells = Enumerable.Range(0, Pages).Select(i => context.Orleans.GetGrain<IBareCellGrain>(i)).ToArray();
        await WarmAsync(array, cells);

        var subjects = new List<(string Name, Func<int, Task> Operation)>
        {
            ("orleans.get", i => cells[i % Pages].ReadElement(1, 8 * (i % 512), 8)),
            ("dsm.get", i => array.GetAsync((i % Pages) * 512L + i % 512).AsTask()),
            ("orleans.set_stored", i => cells[i % Pages].WriteElement(1, 8 * (i % 512), 8, (ulong)i)),
            ("dsm.set", i => array.SetAsync((i % Pages) * 512L + i % 512, i)),
            ("dsm.add", i => array.AddAsync((i % Pages) * 512L + i % 512, 1)),
            // Compares with i - 1, which the element seldom holds (the subjects before it left i or i + 1 there): most
            // swaps fail, and a failed compare-exchange costs what a successful one does (the page applies it as a write).
            ("dsm.compare_exchange", i => array.CompareExchangeAsync((i % Pages) * 512L + i % 512, i, i - 1)),
        };
        if (context.Redis is { } redis)
        {
            var database = await redis.ConnectAsync();
            var keys = Enumerable.Range(0, Pages).Select(_ => RedisPeer.FreshKey("latency")).ToArray();
            foreach (var key in keys) await database.StringSetAsync(key, BitConverter.GetBytes(1L));
            subjects.Add(("redis.get", i => database.StringGetAsync(keys[i % Pages])));
            subjects.Add(("redis.set", i => database.StringSetAsync(keys[i % Pages], BitConverter.GetBytes((long)i))));
            var counters = Enumerable.Range(0, Pages).Select(_ => RedisPeer.FreshKey("latency-counter")).ToArray();
            subjects.Add(("redis.incrby", i => database.StringIncrementAsync(counters[i % Pages], 1)));
        }
        var p50 = subjects.ToDictionary(s => s.Name, _ => new List<double>());
        var p99 = subjects.ToDictionary(s => s.Name, _ => new List<double>());
        // One untimed run first: the processes are fresh (this is the bench's first workload), and every subject's
        // code, ours, Orleans' and the Redis client's, is still being compiled to its final tier during it.
        for (var run = -1; run < context.Runs; run++)
        {
            var latencies = await Measure.InterleavedLatenciesAsync(subjects.Select(s => s.Operation).ToList(), calls);
            if (run < 0) continue;
            for (var s = 0; s < subjects.Count; s++)
            {
                p50[subjects[s].Name].Add(Stats.Percentile(latencies[s], 0.50));
                p99[subjects[s].Name].Add(Stats.Percentile(latencies[s], 0.99));
            }
        }

        var conditions = $"{BenchContext.Setup}; region=Uncached; activations=warm; 1 outstanding; subjects interleaved in blocks of 25; one untimed run, then {calls} calls x {context.Runs} runs, median";
        foreach (var (name, _) in subjects)
        {
            var measured = name.StartsWith("redis.", StringComparison.Ordinal)
                ? $"{RedisPeer.Setup}; 8-byte values under {Pages} keys; 1 outstanding; interleaved with the DSM subjects; one untimed run, then {calls} calls x {context.Runs} runs, median"
                : conditions;
            context.Report.Add($"{name}.p50", Stats.Median(p50[name]), "us", measured);
            context.Report.Add($"{name}.p99", Stats.Median(p99[name]), "us", measured);
        }
        context.Report.Ratio("dsm.get.p50_vs_orleans", Stats.Median(p50["dsm.get"]), Stats.Median(p50["orleans.get"]), conditions);
        context.Report.Ratio("dsm.set.p50_vs_orleans_stored", Stats.Median(p50["dsm.set"]), Stats.Median(p50["orleans.set_stored"]), conditions);
        if (context.Redis is not null)
        {
            context.Report.Ratio("dsm.get.p50_vs_redis", Stats.Median(p50["dsm.get"]), Stats.Median(p50["redis.get"]), conditions);
            context.Report.Ratio("dsm.set.p50_vs_redis", Stats.Median(p50["dsm.set"]), Stats.Median(p50["redis.set"]), conditions);
            context.Report.Ratio("dsm.add.p50_vs_redis_incrby", Stats.Median(p50["dsm.add"]), Stats.Median(p50["redis.incrby"]), conditions);
        }
        await context.Dsm.FreeAsync(array.Name);
    }

    private static async Task WarmAsync(OrleansDsm.Arrays.SharedArray<long> array, IBareCellGrain[] cells)
    {
        await Task.WhenAll(Enumerable.Range(0, Pages).Select(async page =>
        {
            await array.SetAsync(page * 512L, 1);
            await cells[page].WriteElement(1, 0, 8, 1);
        }));
    }
}
