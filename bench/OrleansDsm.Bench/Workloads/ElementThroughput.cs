using OrleansDsm.Bench.Baseline;
using StackExchange.Redis;
using OrleansDsm.Bench.Harness;
using OrleansDsm.Regions;

namespace OrleansDsm.Bench.Workloads;

/// <summary>
/// Uncached get and set throughput at 1, 16 and 256 outstanding calls, beside the bare grain and, when redis-server is
/// installed, Redis GET and SET with as many requests outstanding (each awaited on its own, not batched by the caller),
/// two ways: without pipelining (one connection per request in flight, the goal's anchor) and on one multiplexed
/// connection, which StackExchange.Redis pipelines by itself.
/// </summary>
public static class ElementThroughput
{
    public static async Task RunAsync(BenchContext context)
    {
        const int pages = ElementLatency.Pages;
        var calls = context.Quick ? 10_000 : 30_000;
        var array = await context.Dsm.AllocateAsync<long>($"bench-throughput-{Guid.NewGuid():N}", pages * 512L, Consistency.Uncached);
        var cells = Enumerable.Range(0, pages).Select(i => context.Orleans.GetGrain<IBareCellGrain>(i)).ToArray();
        await array.WriteAsync(0, new long[pages * 512]);
        var redis = context.Redis is null ? null : await context.Redis.ConnectAsync();
        var unpipelined = context.Redis is null ? [] : await context.Redis.ConnectEachAsync(256);
        var keys = redis is null ? [] : Enumerable.Range(0, pages).Select(_ => RedisPeer.FreshKey("throughput")).ToArray();
        foreach (var key in keys) await redis!.StringSetAsync(key, BitConverter.GetBytes(0L));

        foreach (var outstanding in new[] { 1, 16, 256 })
        {
            // One call at a time takes as long as the calls' latencies add up to: a sixth of the calls gives a rate as steady.
            var count = outstanding == 1 ? calls / 6 : calls;
            var subjects = new List<(string Name, Func<int, int, Task> Operation)>
            {
                ("orleans.get", (_, i) => cells[i % pages].ReadElement(1, 8 * (i / pages % 512), 8)),
                ("dsm.get", (_, i) => array.GetAsync((i % pages) * 512L + i / pages % 512).AsTask()),
                ("orleans.set_stored", (_, i) => cells[i % pages].WriteElement(1, 8 * (i / pages % 512), 8, (ulong)i)),
                ("dsm.set", (_, i) => array.SetAsync((i % pages) * 512L + i / pages % 512, i)),
            };
            if (redis is not null)
            {
                subjects.Add(("redis.get", (caller, i) => unpipelined[caller].StringGetAsync(keys[i % pages])));
                subjects.Add(("redis.set", (caller, i) => unpipelined[caller].StringSetAsync(keys[i % pages], BitConverter.GetBytes((long)i))));
                subjects.Add(("redis.get_multiplexed", (_, i) => redis.StringGetAsync(keys[i % pages])));
                subjects.Add(("redis.set_multiplexed", (_, i) => redis.StringSetAsync(keys[i % pages], BitConverter.GetBytes((long)i))));
            }
            var rates = subjects.ToDictionary(s => s.Name, _ => new List<double>());
            for (var run = 0; run < context.Runs; run++)
                foreach (var (name, operation) in subjects)
                    rates[name].Add(await Measure.ThroughputAsync(operation, count, outstanding));

            var conditions = $"{BenchContext.Setup}; region=Uncached; activations=warm; {outstanding} outstanding over {pages} pages; {count} calls x {context.Runs} runs, median";
            foreach (var (name, _) in subjects)
                context.Report.Add($"{name}.ops_{outstanding}", Stats.Median(rates[name]), "ops/s", name.StartsWith("redis.", StringComparison.Ordinal)
                    ? $"{(name.EndsWith("_multiplexed", StringComparison.Ordinal) ? RedisPeer.Setup + "; one connection for all, which pipelines the requests in flight" : RedisPeer.UnpipelinedSetup)}; 8-byte values under {pages} keys; {outstanding} requests outstanding, each awaited alone; {count} calls x {context.Runs} runs, median"
                    : conditions);
            context.Report.Ratio($"dsm.get.ops_{outstanding}_vs_orleans", Stats.Median(rates["dsm.get"]), Stats.Median(rates["orleans.get"]), conditions);
            context.Report.Ratio($"dsm.set.ops_{outstanding}_vs_orleans_stored", Stats.Median(rates["dsm.set"]), Stats.Median(rates["orleans.set_stored"]), conditions);
            if (redis is null) continue;
            context.Report.Ratio($"dsm.get.ops_{outstanding}_vs_redis", Stats.Median(rates["dsm.get"]), Stats.Median(rates["redis.get"]), conditions);
            context.Report.Ratio($"dsm.set.ops_{outstanding}_vs_redis", Stats.Median(rates["dsm.set"]), Stats.Median(rates["redis.set"]), conditions);
            context.Report.Ratio($"dsm.get.ops_{outstanding}_vs_redis_multiplexed", Stats.Median(rates["dsm.get"]), Stats.Median(rates["redis.get_multiplexed"]), conditions);
            context.Report.Ratio($"dsm.set.ops_{outstanding}_vs_redis_multiplexed", Stats.Median(rates["dsm.set"]), Stats.Median(rates["redis.set_multiplexed"]), conditions);
        }
        await context.Dsm.FreeAsync(array.Name);
    }
}
