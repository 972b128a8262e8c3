using System.Runtime.CompilerServices;
using OrleansDsm.Bench.Harness;
using OrleansDsm.Regions;

namespace OrleansDsm.Bench.Workloads;

/// <summary>
/// 95% reads and 5% writes from 4 clients (4 sessions, each with its own cache) over 1,000 pages, pages chosen by a
/// Zipf distribution (s = 0.99): the same workload on a Strict (cached) region and an Uncached one, both measured
/// warm (every client has read every page, and one untimed run went first). Beside the rates, what the Strict run
/// sent per operation, counted rather than timed: the pages it fetched, the revocations its sessions received (and the
/// silo's calls that carried them, several to a call under load) and the writes, where the Uncached run makes one
/// grain call an operation; and what the clients' process allocated meanwhile, its generation-2 collections and how
/// often its threads found a lock taken.
/// </summary>
public static class ReadMostlyMix
{
    private const int Pages = 1000;
    private const int Clients = 4;
    private const int OutstandingPerClient = 16;

    public static async Task RunAsync(BenchContext context)
    {
        var operations = context.Quick ? 100_000 : 300_000;
        var zipf = ZipfTable(Pages, 0.99);
        var rates = new Dictionary<string, List<double>> { ["strict"] = [], ["uncached"] = [] };
        var hitRate = 0.0;
        (double Fetches, double Revocations, double RevocationCalls, double Writes) perOperation = default;
        (double AllocatedBytes, double Gen2Collections, double LockContentions) clientProcess = default;
        var clients = Enumerable.Range(0, Clients).Select(_ => new DsmClient(context.Orleans)).ToArray();
        foreach (var mode in new[] { ("strict", Consistency.Strict), ("uncached", Consistency.Uncached) })
        {
            var name = $"bench-zipf-{mode.Item1}-{Guid.NewGuid():N}";
            await context.Dsm.AllocateAsync<long>(name, Pages * 512L, mode.Item2);
            var arrays = await Task.WhenAll(clients.Select(client => client.OpenAsync<long>(name)));
            // Steady state: every client has read every page once, and one untimed run has settled the mix.
            foreach (var array in arrays)
                for (var page = 0; page < Pages; page++) await array.GetAsync(page * 512L);
            var writes = new StrongBox<long>();
            await RunOnceAsync(arrays, zipf, operations, writes);
            writes.Value = 0;
            var before = CacheCounters.Read();
            var (allocatedBefore, gen2Before, contentionsBefore) = (GC.GetTotalAllocatedBytes(), GC.CollectionCount(2), Monitor.LockContentionCount);
            for (var run = 0; run < context.Runs; run++)
                rates[mode.Item1].Add(await RunOnceAsync(arrays, zipf, operations, writes));
            var (allocatedAfter, gen2After, contentionsAfter) = (GC.GetTotalAllocatedBytes(), GC.CollectionCount(2), Monitor.LockContentionCount);
            var after = CacheCounters.Read();
            long Delta(string counter) => after.GetValueOrDefault(counter) - before.GetValueOrDefault(counter);
            if (mode.Item2 == Consistency.Strict)
            {
                hitRate = (double)Delta("dsm.cache.hits") / Math.Max(1, Delta("dsm.cache.hits") + Delta("dsm.cache.misses"));
                var timed = (double)(operations / Clients * Clients) * context.Runs; // each client makes its whole share
                perOperation = (Delta("dsm.cache.misses") / timed, Delta("dsm.cache.invalidations_received") / timed,
                    Delta("dsm.cache.revocation_calls_received") / timed, writes.Value / timed);
                clientProcess = ((allocatedAfter - allocatedBefore) / timed, (gen2After - gen2Before) * 100_000 / timed, (contentionsAfter - contentionsBefore) / timed);
            }
            await context.Dsm.FreeAsync(name);
        }
        foreach (var client in clients) await client.DisposeAsync();

        var conditions = $"{BenchContext.Setup}; activations=warm (every session has read every page, and one untimed run went first); 4 sessions x {OutstandingPerClient} outstanding; 95% get / 5% set; Zipf s=0.99 over {Pages} pages; {operations} ops x {context.Runs} runs, median";
        context.Report.Add("dsm.zipf95.strict.ops", Stats.Median(rates["strict"]), "ops/s", conditions);
        context.Report.Add("dsm.zipf95.uncached.ops", Stats.Median(rates["uncached"]), "ops/s", conditions);
        context.Report.Add("dsm.zipf95.strict.hit_rate", hitRate, "fraction of reads", conditions);
        context.Report.Add("dsm.zipf95.strict.fetches_per_op", perOperation.Fetches, "calls", conditions + "; pages fetched on a miss");
        context.Report.Add("dsm.zipf95.strict.revocations_per_op", perOperation.Revocations, "revocations", conditions + "; revocations the sessions received");
        context.Report.Add("dsm.zipf95.strict.revocation_calls_per_op", perOperation.RevocationCalls, "calls", conditions + "; the silo's calls to the sessions that carried those revocations");
        context.Report.Add("dsm.zipf95.strict.writes_per_op", perOperation.Writes, "calls", conditions);
        context.Report.Add("dsm.zipf95.strict.calls_per_op", perOperation.Fetches + perOperation.RevocationCalls + perOperation.Writes, "calls",
            conditions + "; fetches, calls carrying revocations and writes together, against 1 in the Uncached run");
        context.Report.Add("dsm.zipf95.strict.client_allocated_per_op", clientProcess.AllocatedBytes, "bytes",
            conditions + "; allocated by the clients' process (the 4 sessions and this harness), per operation");
        context.Report.Add("dsm.zipf95.strict.client_gen2_collections", clientProcess.Gen2Collections, "per 100k ops",
            conditions + "; generation-2 collections in the clients' process");
        context.Report.Add("dsm.zipf95.strict.client_lock_contentions_per_op", clientProcess.LockContentions, "contentions",
            conditions + "; times a thread of the clients' process found a lock taken (Monitor.LockContentionCount), per operation");
        context.Report.Ratio("dsm.zipf95.strict_vs_uncached", Stats.Median(rates["strict"]), Stats.Median(rates["uncached"]), conditions);
    }

    /// <summary>Runs the mix once and returns its rate, adding the writes it made to <paramref name="writes"/>.</summary>
    private static async Task<double> RunOnceAsync(OrleansDsm.Arrays.SharedArray<long>[] arrays, double[] zipf, int operations, StrongBox<long> writes)
    {
        var perClient = operations / arrays.Length;
        return arrays.Length * perClient / await Measure.SecondsAsync(() => Task.WhenAll(arrays.Select((array, client) =>
            Measure.ThroughputAsync(async i =>
            {
                var random = Random.Shared;
                var found = Array.BinarySearch(zipf, random.NextDouble());
                var page = found < 0 ? ~found : found;
                var index = Math.Min(page, Pages - 1) * 512L + random.Next(512);
                if (random.Next(100) < 5)
                {
                    Interlocked.Increment(ref writes.Value);
                    await array.SetAsync(index, i);
                }
                else await array.GetAsync(index);
            }, perClient, OutstandingPerClient))));
    }

    /// <summary>The cumulative distribution of a Zipf law over <paramref name="count"/> ranks.</summary>
    private static double[] ZipfTable(int count, double s)
    {
        var weights = Enumerable.Range(1, count).Select(rank => 1 / Math.Pow(rank, s)).ToArray();
        var total = weights.Sum();
        var cumulative = new double[count];
        double running = 0;
        for (var i = 0; i < count; i++) cumulative[i] = running += weights[i] / total;
        return cumulative;
    }
}
