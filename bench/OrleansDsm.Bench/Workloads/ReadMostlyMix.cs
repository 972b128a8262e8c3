using OrleansDsm.Bench.Harness;
using OrleansDsm.Regions;

namespace OrleansDsm.Bench.Workloads;

/// <summary>
/// 95% reads and 5% writes from 4 clients (4 sessions, each with its own cache) over 1,000 pages, pages chosen by a
/// Zipf distribution (s = 0.99): the same workload on a Strict (cached) region, an Uncached one and a Bounded one
/// (cached, reads up to <see cref="BoundedStaleness"/> old), all measured warm (every client has read every page, and
/// one untimed run went first), their timed runs taking turns. Beside the rates, what the Strict runs sent per
/// operation, counted rather than timed: the pages they fetched, the revocations their sessions received (and the
/// silo's calls that carried them, several to a call under load) and the writes, where the Uncached run makes one grain
/// call an operation; what the clients' process allocated meanwhile, its generation-2 collections and how often its
/// threads found a lock taken; the time the Strict writes took, alone and as a share of the callers' time; and the
/// processor time each mode's operation cost the clients' process and the silo's. Then Strict and Uncached again, each
/// client making one operation at a time (as a program's thread does), where the rate follows each operation's time
/// rather than what the processes can do at once.
/// </summary>
public static class ReadMostlyMix
{
    private const int Clients = 4;
    private const int OutstandingPerClient = 16;

    /// <summary>The second series: each client one operation at a time.</summary>
    private const int OneEach = 1;

    /// <summary>The Bounded region's bound: a read-mostly app that tolerates values this old gets this mode's rate.</summary>
    private static readonly TimeSpan BoundedStaleness = TimeSpan.FromSeconds(1);

    public static async Task RunAsync(BenchContext context)
    {
        var operations = context.Quick ? 100_000 : 300_000;
        // A third as many one at a time: those runs take longer for each operation.
        var operationsOneEach = operations / 3;
        var operationsPerRun = (double)(operations / Clients * Clients); // each client makes its whole share
        var zipf = ZipfMix.Table();
        var clients = Enumerable.Range(0, Clients).Select(_ => new DsmClient(context.Orleans)).ToArray();
        var modes = new[] { ("strict", Consistency.Strict), ("uncached", Consistency.Uncached), ("bounded", Consistency.Bounded(BoundedStaleness)) };
        var rates = modes.ToDictionary(mode => mode.Item1, _ => new List<double>());
        var names = modes.Select(mode => $"bench-zipf-{mode.Item1}-{Guid.NewGuid():N}").ToArray();
        var regions = new OrleansDsm.Arrays.SharedArray<long>[modes.Length][];
        for (var m = 0; m < modes.Length; m++)
        {
            await context.Dsm.AllocateAsync<long>(names[m], ZipfMix.Elements, modes[m].Item2);
            regions[m] = await Task.WhenAll(clients.Select(client => client.OpenAsync<long>(names[m])));
            // Steady state: every client has read every page once, and one untimed run has settled the mix.
            foreach (var array in regions[m]) await ZipfMix.ReadEveryPageAsync(array);
            await RunOnceAsync(regions[m], zipf, operations, OutstandingPerClient, writes: null);
        }
        // The modes take turns, run by run, so that the machine's drift over the minutes the runs take (large on a
        // shared host) weighs on all alike. What the Strict runs send and allocate is summed over those runs alone.
        var writes = new SetTally();
        var counted = new Dictionary<string, long>();
        long boundedFetches = 0;
        (long Allocated, long Gen2, long Contentions) process = default;
        // Processor time per operation of each run, in microseconds: the clients' process and the silo's.
        var processor = modes.ToDictionary(mode => mode.Item1, _ => (Clients: new List<double>(), Silo: new List<double>()));
        for (var run = 0; run < context.Runs; run++)
        {
            var before = CacheCounters.Read();
            var (allocated, gen2, contentions) = (GC.GetTotalAllocatedBytes(), GC.CollectionCount(2), Monitor.LockContentionCount);
            rates["strict"].Add(await TimedRunAsync("strict", regions[0], writes));
            process = (process.Allocated + GC.GetTotalAllocatedBytes() - allocated, process.Gen2 + GC.CollectionCount(2) - gen2,
                process.Contentions + Monitor.LockContentionCount - contentions);
            foreach (var (counter, value) in CacheCounters.Read())
                counted[counter] = counted.GetValueOrDefault(counter) + value - before.GetValueOrDefault(counter);
            rates["uncached"].Add(await TimedRunAsync("uncached", regions[1], writesMade: null));
            var misses = CacheCounters.Read().GetValueOrDefault("dsm.cache.misses");
            rates["bounded"].Add(await TimedRunAsync("bounded", regions[2], writesMade: null));
            boundedFetches += CacheCounters.Read().GetValueOrDefault("dsm.cache.misses") - misses;
        }
        var oneEach = (Strict: new List<double>(), Uncached: new List<double>());
        var writesOneEach = new SetTally();
        for (var run = 0; run < context.Runs; run++)
        {
            oneEach.Strict.Add(await RunOnceAsync(regions[0], zipf, operationsOneEach, OneEach, writesOneEach));
            oneEach.Uncached.Add(await RunOnceAsync(regions[1], zipf, operationsOneEach, OneEach, writes: null));
        }
        foreach (var name in names) await context.Dsm.FreeAsync(name);
        foreach (var client in clients) await client.DisposeAsync();

        long Counted(string counter) => counted.GetValueOrDefault(counter);
        var hitRate = (double)Counted("dsm.cache.hits") / Math.Max(1, Counted("dsm.cache.hits") + Counted("dsm.cache.misses"));
        var timed = operationsPerRun * context.Runs;
        var perOperation = (Fetches: Counted("dsm.cache.misses") / timed, Revocations: Counted("dsm.cache.invalidations_received") / timed,
            RevocationCalls: Counted("dsm.cache.revocation_calls_received") / timed, Writes: writes.Count / timed);
        var clientProcess = (AllocatedBytes: process.Allocated / timed, Gen2Collections: process.Gen2 * 100_000 / timed, LockContentions: process.Contentions / timed);

        var conditions = $"{BenchContext.Setup}; activations=warm (every session has read every page, and one untimed run went first); Strict, Uncached and Bounded runs taking turns; 4 sessions x {OutstandingPerClient} outstanding; 95% get / 5% set; Zipf s=0.99 over {ZipfMix.Pages} pages; {operations} ops x {context.Runs} runs, median";
        context.Report.Add("dsm.zipf95.strict.ops", Stats.Median(rates["strict"]), "ops/s", conditions);
        context.Report.Add("dsm.zipf95.uncached.ops", Stats.Median(rates["uncached"]), "ops/s", conditions);
        context.Report.Add("dsm.zipf95.strict.hit_rate", hitRate, "fraction of reads", conditions);
        context.Report.Add("dsm.zipf95.strict.fetches_per_op", perOperation.Fetches, "calls", conditions + "; pages fetched on a miss");
        context.Report.Add("dsm.zipf95.strict.revocations_per_op", perOperation.Revocations, "revocations", conditions + "; revocations the sessions received");
        context.Report.Add("dsm.zipf95.strict.revocation_calls_per_op", perOperation.RevocationCalls, "calls", conditions + "; the silo's calls to the sessions that carried those revocations");
        context.Report.Add("dsm.zipf95.strict.writes_per_op", perOperation.Writes, "calls", conditions);
        // Each caller makes one operation at a time, so the rate is the callers over an operation's mean time, most of
        // which the Strict writes take (a write waits for its copies elsewhere to be revoked). Their time grows with the
        // callers once the processes are saturated, so it shows where an operation waits, not what bounds the rate.
        context.Report.Add("dsm.zipf95.strict.set_latency_mean", writes.Seconds / Math.Max(1, writes.Count) * 1e3, "ms",
            conditions + "; a write's time from its call to its return, mean over the Strict runs' writes");
        context.Report.Add("dsm.zipf95.strict.callers_time_in_sets", writes.Seconds / writes.CallerSeconds, "fraction",
            conditions + $"; the share of the {Clients * OutstandingPerClient} callers' time the Strict runs' writes took");
        var callsPerOperation = perOperation.Fetches + perOperation.RevocationCalls + perOperation.Writes;
        context.Report.Add("dsm.zipf95.strict.calls_per_op", callsPerOperation, "calls",
            conditions + "; fetches, calls carrying revocations and writes together, against 1 in the Uncached run");
        context.Report.Add("dsm.zipf95.strict.client_allocated_per_op", clientProcess.AllocatedBytes, "bytes",
            conditions + "; allocated by the clients' process (the 4 sessions and this harness), per operation");
        context.Report.Add("dsm.zipf95.strict.client_gen2_collections", clientProcess.Gen2Collections, "per 100k ops",
            conditions + "; generation-2 collections in the clients' process");
        context.Report.Add("dsm.zipf95.strict.client_lock_contentions_per_op", clientProcess.LockContentions, "contentions",
            conditions + "; times a thread of the clients' process found a lock taken (Monitor.LockContentionCount), per operation");
        context.Report.Ratio("dsm.zipf95.strict_vs_uncached", Stats.Median(rates["strict"]), Stats.Median(rates["uncached"]), conditions);
        // Bounded is the mode for read-mostly data that tolerates stale values: writes wait for no reader, and a copy is
        // fetched again once it is as old as the bound.
        var boundedConditions = $"{conditions}; the Bounded region's reads return values up to {BoundedStaleness.TotalMilliseconds} ms old";
        context.Report.Add("dsm.zipf95.bounded.ops", Stats.Median(rates["bounded"]), "ops/s", boundedConditions);
        context.Report.Add("dsm.zipf95.bounded.fetches_per_op", boundedFetches / timed, "calls", boundedConditions + "; pages fetched on a miss, a copy past its bound included");
        context.Report.Ratio("dsm.zipf95.bounded_vs_uncached", Stats.Median(rates["bounded"]), Stats.Median(rates["uncached"]), boundedConditions);

        var oneEachConditions = $"{BenchContext.Setup}; activations=warm (after the runs above); Strict and Uncached runs taking turns; 4 sessions x {OneEach} outstanding; 95% get / 5% set; Zipf s=0.99 over {ZipfMix.Pages} pages; {operationsOneEach} ops x {context.Runs} runs, median";
        context.Report.Add("dsm.zipf95.one_each.strict.ops", Stats.Median(oneEach.Strict), "ops/s", oneEachConditions);
        context.Report.Add("dsm.zipf95.one_each.uncached.ops", Stats.Median(oneEach.Uncached), "ops/s", oneEachConditions);
        context.Report.Add("dsm.zipf95.one_each.strict.set_latency_mean", writesOneEach.Seconds / Math.Max(1, writesOneEach.Count) * 1e3, "ms",
            oneEachConditions + "; a write's time from its call to its return, mean over the Strict runs' writes");
        context.Report.Ratio("dsm.zipf95.one_each.strict_vs_uncached", Stats.Median(oneEach.Strict), Stats.Median(oneEach.Uncached), oneEachConditions);

        // Where the machine's two cores go: a Strict operation makes few calls, but each of them may cost its processes
        // more than an Uncached call does (a call that carries revocations, a write that waits for them, a fetch).
        var processorConditions = conditions + "; processor time (user and system) per operation over each timed run, median";
        foreach (var (mode, _) in modes)
            context.Report.Add($"dsm.zipf95.{mode}.client_processor_per_op", Stats.Median(processor[mode].Clients), "us",
                processorConditions + "; the clients' process (the 4 sessions and this harness)");
        if (context.SiloProcessId is null) return;
        foreach (var (mode, _) in modes)
            context.Report.Add($"dsm.zipf95.{mode}.silo_processor_per_op", Stats.Median(processor[mode].Silo), "us", processorConditions + "; the silo's process");
        context.Report.Ratio("dsm.zipf95.silo_processor_per_call_strict_vs_uncached", Stats.Median(processor["strict"].Silo) / callsPerOperation,
            Stats.Median(processor["uncached"].Silo), processorConditions + "; the silo's processor time per call, Strict (over calls_per_op) against Uncached (one call an operation)");

        // A run of the mix, with the processor time it cost each process.
        async Task<double> TimedRunAsync(string mode, OrleansDsm.Arrays.SharedArray<long>[] arrays, SetTally? writesMade)
        {
            var (clientsBefore, siloBefore) = (ProcessorTime.Seconds(Environment.ProcessId), ProcessorTime.Seconds(context.SiloProcessId));
            var rate = await RunOnceAsync(arrays, zipf, operations, OutstandingPerClient, writesMade);
            processor[mode].Clients.Add((ProcessorTime.Seconds(Environment.ProcessId) - clientsBefore) * 1e6 / operationsPerRun);
            if (context.SiloProcessId is not null) processor[mode].Silo.Add((ProcessorTime.Seconds(context.SiloProcessId) - siloBefore) * 1e6 / operationsPerRun);
            return rate;
        }
    }

    /// <summary>
    /// Runs the mix once, with <paramref name="outstanding"/> callers a client, and returns its rate, adding the writes
    /// it made and the time they took to <paramref name="writes"/>, if given.
    /// </summary>
    private static async Task<double> RunOnceAsync(OrleansDsm.Arrays.SharedArray<long>[] arrays, double[] zipf, int operations, int outstanding, SetTally? writes)
    {
        var perClient = operations / arrays.Length;
        var seconds = await Measure.SecondsAsync(() => Task.WhenAll(arrays.Select(array => ZipfMix.RunClientAsync(array, zipf, perClient, outstanding, writes))));
        if (writes is not null) writes.CallerSeconds += seconds * arrays.Length * outstanding;
        return arrays.Length * perClient / seconds;
    }
}
