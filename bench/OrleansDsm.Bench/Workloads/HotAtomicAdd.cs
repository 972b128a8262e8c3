using OrleansDsm.Bench.Baseline;
using OrleansDsm.Bench.Harness;
using OrleansDsm.Regions;

namespace OrleansDsm.Bench.Workloads;

/// <summary>
/// Atomic add on one hot element from 4 clients (4 sessions of the DSM; 4 connections to Redis), each keeping 16 adds
/// in flight: <c>AddAsync</c> on a Strict region beside Redis INCRBY on one key. Each run checks the total it ends with.
/// </summary>
public static class HotAtomicAdd
{
    private const int Clients = 4;
    private const int OutstandingPerClient = 16;

    public static async Task RunAsync(BenchContext context)
    {
        var adds = context.Quick ? 20_000 : 60_000;
        var perClient = adds / Clients;
        var name = $"bench-hot-add-{Guid.NewGuid():N}";
        await context.Dsm.AllocateAsync<long>(name, 512, Consistency.Strict);
        var clients = Enumerable.Range(0, Clients).Select(_ => new DsmClient(context.Orleans)).ToArray();
        var arrays = await Task.WhenAll(clients.Select(client => client.OpenAsync<long>(name)));
        var redis = context.Redis is null ? null : await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => context.Redis.ConnectAsync()));
        var key = RedisPeer.FreshKey("hot-add");

        var (dsmRates, redisRates) = (new List<double>(), new List<double>());
        // One untimed run first: it activates the page and opens the connections.
        for (var run = 0; run <= context.Runs; run++)
        {
            var dsm = await RateAsync(perClient, client => _ => arrays[client].AddAsync(7, 1));
            var total = await arrays[0].GetAsync(7);
            if (total != (long)(run + 1) * perClient * Clients) throw new InvalidOperationException($"The hot element holds {total} after {run + 1} runs of {perClient * Clients} adds.");
            if (run > 0) dsmRates.Add(dsm);
            if (redis is null) continue;
            var measured = await RateAsync(perClient, client => _ => redis[client].StringIncrementAsync(key, 1));
            var counted = (long)await redis[0].StringGetAsync(key);
            if (counted != (long)(run + 1) * perClient * Clients) throw new InvalidOperationException($"Redis counted {counted} after {run + 1} runs of {perClient * Clients} INCRBY.");
            if (run > 0) redisRates.Add(measured);
        }
        foreach (var client in clients) await client.DisposeAsync();
        await context.Dsm.FreeAsync(name);

        var load = $"{Clients} clients x {OutstandingPerClient} outstanding, one element; {adds} adds x {context.Runs} runs, median";
        var conditions = $"{BenchContext.Setup}; region=Strict; activations=warm (one untimed run first); AddAsync on int64; {load}";
        context.Report.Add("dsm.atomic_add.hot.ops", Stats.Median(dsmRates), "ops/s", conditions);
        if (redis is null) return;
        await redis[0].KeyDeleteAsync(key);
        context.Report.Add("redis.incrby.hot.ops", Stats.Median(redisRates), "ops/s", $"{RedisPeer.Setup}; INCRBY on one key; {load}");
        context.Report.Ratio("dsm.atomic_add.hot_vs_redis_incrby", Stats.Median(dsmRates), Stats.Median(redisRates), conditions);
    }

    /// <summary>Adds a second from every client at once, each client keeping its share of calls in flight.</summary>
    private static async Task<double> RateAsync(int perClient, Func<int, Func<int, Task>> add)
    {
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(client => Measure.ThroughputAsync(add(client), perClient, OutstandingPerClient)));
        return perClient * Clients / System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
}
