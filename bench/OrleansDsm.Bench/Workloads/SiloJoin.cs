using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OrleansDsm.Arrays;
using OrleansDsm.Bench.Harness;
using OrleansDsm.Bench.Hosting;
using OrleansDsm.Pages;
using OrleansDsm.Regions;

namespace OrleansDsm.Bench.Workloads;

/// <summary>
/// What happens when a silo is added under load: uncached gets over 2,000 pages from 256 outstanding calls run against
/// a one-silo cluster while a second silo starts and joins it. Reports the rate before, during and after the join, the
/// calls that failed, the slowest call, where pages activated after the join are placed, and how many of the pages
/// activated before it moved. Runs twice: as the product is by default (nothing moves a page), and with Orleans'
/// activation rebalancer (the product's opt-in <c>Silo:Rebalance</c>), where the load then runs on until half the
/// sampled pages are on the new silo, and the time that took and the rate after it are reported too. After the default
/// run, single gets of a page on each silo take turns: a page on the silo that joined, which the client's gateway does
/// not host, against one on the gateway's silo. Both silos share this machine's two cores, so the figures show what a
/// join costs the clients, not how far more machines scale.
/// </summary>
public static class SiloJoin
{
    private const int Pages = 2000;
    private const int Outstanding = 256;
    private const int Sampled = 200;
    private const int LatencyGets = 2000;
    // Balanced: half the sampled pages on the new silo, less a few for sampling and the rebalancer's tolerance.
    private const double Balanced = 0.45;
    // Most of the way there: a run that stops waiting short of Balanced still says how far it got, and how fast.
    private const double Mostly = 0.40;
    private static readonly TimeSpan LongestBalanceWait = TimeSpan.FromSeconds(60);

    public static async Task RunAsync(BenchContext context)
    {
        await JoinAsync(context, ActivationMoves.None, "dsm.silo_join");
        await JoinAsync(context, ActivationMoves.Rebalance, "dsm.silo_join_rebalanced");
    }

    private static async Task JoinAsync(BenchContext context, ActivationMoves moves, string prefix)
    {
        var steady = TimeSpan.FromSeconds(context.Quick ? 2 : 4);
        var cluster = $"bench-join-{moves}".ToLowerInvariant();
        await using var first = await BenchSiloProcess.StartBenchAsync(cluster, null, moves);
        using var host = await first.ConnectAsync(cluster);
        var client = host.Services.GetRequiredService<IClusterClient>();
        await using var dsm = new DsmClient(client);
        var name = $"bench-join-{Guid.NewGuid():N}";
        var before = await dsm.AllocateAsync<long>($"{name}-before", Pages * 512L, Consistency.Uncached);
        await before.WriteAsync(0, new long[Pages * 512]);

        var load = new GetLoad(before);
        var running = load.RunAsync();
        await Task.Delay(steady); // warm-up, not reported
        var measured = load.Elapsed;
        await Task.Delay(steady);
        var joinStarted = load.Elapsed;
        await using var second = await BenchSiloProcess.StartBenchAsync(cluster, first.SiloPort, moves);
        await WaitForSilosAsync(client, 2);
        var joined = load.Elapsed;
        await Task.Delay(steady);
        var ended = load.Elapsed;
        var secondSilo = (await client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Keys.Single(silo => silo.Endpoint.Port == second.SiloPort);
        (TimeSpan At, TimeSpan Until, TimeSpan? MostlyAt, double Fraction)? balanced = null;
        if (moves == ActivationMoves.Rebalance)
        {
            TimeSpan? mostlyAt = null;
            double fraction;
            while (true)
            {
                fraction = await FractionOnAsync(client, before, secondSilo);
                if (fraction >= Mostly) mostlyAt ??= load.Elapsed;
                if (fraction >= Balanced || load.Elapsed - joined >= LongestBalanceWait) break;
                await Task.Delay(500);
            }
            var at = load.Elapsed;
            await Task.Delay(steady);
            balanced = (at, load.Elapsed, mostlyAt, fraction);
        }
        load.Stop();
        await running;

        var after = await dsm.AllocateAsync<long>($"{name}-after", Pages * 512L, Consistency.Uncached);
        await after.WriteAsync(0, new long[Pages * 512]);
        var moved = await FractionOnAsync(client, before, secondSilo);
        var placed = await FractionOnAsync(client, after, secondSilo);
        (List<double> GatewaySilo, List<double> OtherSilo)? latencies = moves == ActivationMoves.None ? await ByPageSiloAsync(client, before, after, secondSilo) : null;
        await Task.WhenAll(dsm.FreeAsync(before.Name), dsm.FreeAsync(after.Name));

        var how = moves == ActivationMoves.Rebalance
            ? "activation rebalancer on (first session 2 s after start, 2 s cycles, cycle weight 1)"
            : "nothing moves activations (the product's default)";
        var conditions = $"storage=memory (Orleans' storage grains, which both silos reach; binary, write-behind 1 s); silos=1, then 2: a bench silo alone, then a second joining it (localhost clustering, both on this machine's 2 cores); {how}; client through the first silo's gateway; region=Uncached; activations=warm (every page written before the load); uncached gets over {Pages} pages, {Outstanding} outstanding";
        context.Report.Add($"{prefix}.get.ops_before", load.Rate(measured, joinStarted), "ops/s", conditions + $"; the {steady.TotalSeconds:0} s before the second silo started");
        context.Report.Add($"{prefix}.get.ops_during", load.Rate(joinStarted, joined), "ops/s", conditions + "; from the second silo's start to its being active in the cluster");
        context.Report.Add($"{prefix}.get.ops_after", load.Rate(joined, ended), "ops/s", conditions + $"; the {steady.TotalSeconds:0} s after it joined");
        context.Report.Add($"{prefix}.join_seconds", (joined - joinStarted).TotalSeconds, "s", conditions + "; from starting the second silo's process to its being active in the cluster");
        if (balanced is var (balancedAt, balancedUntil, mostlyBalancedAt, reached))
        {
            var looked = $"looked at every 0.5 s or so, given up after {LongestBalanceWait.TotalSeconds:0} s";
            context.Report.Add($"{prefix}.balance_seconds", (balancedAt - joined).TotalSeconds, "s", conditions + $"; from the second silo's being active to {Balanced:P0} of {Sampled} sampled pages being on it ({looked})");
            context.Report.Add($"{prefix}.balance_{Mostly * 100:0}pct_seconds", ((mostlyBalancedAt ?? balancedAt) - joined).TotalSeconds, "s",
                conditions + $"; the same to {Mostly:P0} of them ({looked}: the wait's length when not reached, see the fraction reached)");
            context.Report.Add($"{prefix}.balanced_fraction", reached, "fraction", conditions + $"; of {Sampled} sampled pages, those on the second silo when the wait for {Balanced:P0} ended");
            context.Report.Add($"{prefix}.get.ops_balanced", load.Rate(balancedAt, balancedUntil), "ops/s", conditions + $"; the {steady.TotalSeconds:0} s after that");
        }
        if (latencies is var (gatewaySilo, otherSilo))
        {
            var latencyConditions = conditions.Replace($", {Outstanding} outstanding", "") +
                $"; one outstanding, {LatencyGets} gets of one page on each silo taking turns after {LatencyGets} untimed (a client sends a page's requests to its silo's own direct connection once it has learned where the page is)";
            context.Report.Add($"{prefix}.get.p50_page_on_gateway_silo", Stats.Percentile(gatewaySilo, 0.5), "us", latencyConditions + "; a page on the silo of the client's gateway");
            context.Report.Add($"{prefix}.get.p50_page_on_other_silo", Stats.Percentile(otherSilo, 0.5), "us", latencyConditions + "; a page on the silo that joined");
            context.Report.Ratio($"{prefix}.get.p50_other_silo_vs_gateway_silo", Stats.Percentile(otherSilo, 0.5), Stats.Percentile(gatewaySilo, 0.5), latencyConditions);
        }
        context.Report.Add($"{prefix}.get.failed", load.Failed, "calls", conditions + $"; calls that failed, out of {load.Completed} over the whole run, warm-up included");
        context.Report.Add($"{prefix}.get.slowest_ms", load.SlowestMilliseconds, "ms", conditions + "; the slowest call over the whole run, warm-up included");
        context.Report.Add($"{prefix}.pages_moved", moved, "fraction", conditions + $"; of {Sampled} pages activated before the join, those on the second silo at the end");
        context.Report.Add($"{prefix}.new_pages_placed_on_second", placed, "fraction", conditions + $"; of {Sampled} pages first written after the join, those the placement put on the second silo");
    }

    /// <summary>
    /// Latencies of single gets of a page of <paramref name="onGateway"/> on the gateway's silo and of one of
    /// <paramref name="onOther"/> on <paramref name="other"/>, taking turns, after as many untimed.
    /// </summary>
    private static async Task<(List<double> GatewaySilo, List<double> OtherSilo)> ByPageSiloAsync(IClusterClient client, SharedArray<long> onGateway,
        SharedArray<long> onOther, SiloAddress other)
    {
        var management = client.GetGrain<IManagementGrain>(0);
        async Task<long> IndexOfPageAsync(SharedArray<long> array, bool onOtherSilo)
        {
            for (var page = 0; page < Pages; page++)
                if ((await management.GetActivationAddress(client.GetGrain<IPageGrain>(array.Region.FirstPage + page)))?.Equals(other) == onOtherSilo)
                    return page * 512L;
            throw new InvalidOperationException($"bench: no page of {array.Name} is {(onOtherSilo ? "on" : "off")} the silo that joined");
        }
        var (here, there) = (await IndexOfPageAsync(onGateway, onOtherSilo: false), await IndexOfPageAsync(onOther, onOtherSilo: true));
        Func<int, Task>[] subjects = [async i => await onGateway.GetAsync(here + i % 512), async i => await onOther.GetAsync(there + i % 512)];
        await Measure.InterleavedLatenciesAsync(subjects, LatencyGets);
        var latencies = await Measure.InterleavedLatenciesAsync(subjects, LatencyGets);
        return (latencies[0], latencies[1]);
    }

    private static async Task WaitForSilosAsync(IClusterClient client, int count)
    {
        var management = client.GetGrain<IManagementGrain>(0);
        var deadline = Stopwatch.StartNew();
        while ((await management.GetHosts(onlyActive: true)).Count < count)
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException($"bench: the cluster did not reach {count} active silos within 60 s");
            await Task.Delay(50);
        }
    }

    /// <summary>Of <see cref="Sampled"/> pages spread over the region, the fraction whose activation is on <paramref name="silo"/>.</summary>
    private static async Task<double> FractionOnAsync(IClusterClient client, SharedArray<long> array, SiloAddress silo)
    {
        var management = client.GetGrain<IManagementGrain>(0);
        var on = 0;
        for (var i = 0; i < Sampled; i++)
        {
            var page = array.Region.FirstPage + (long)i * Pages / Sampled;
            if ((await management.GetActivationAddress(client.GetGrain<IPageGrain>(page)))?.Equals(silo) == true) on++;
        }
        return (double)on / Sampled;
    }

    /// <summary>Gets from <see cref="Outstanding"/> callers until stopped, counted in 100 ms buckets from the start.</summary>
    private sealed class GetLoad(SharedArray<long> array)
    {
        private const int BucketMilliseconds = 100;
        private readonly long[] _buckets = new long[3000];
        private readonly Stopwatch _clock = new();
        private volatile bool _stopping;
        private long _failed;
        private long _slowestTicks;

        public TimeSpan Elapsed => _clock.Elapsed;

        public long Failed => Interlocked.Read(ref _failed);

        public long Completed => _buckets.Sum();

        public double SlowestMilliseconds => TimeSpan.FromTicks(Interlocked.Read(ref _slowestTicks)).TotalMilliseconds;

        public Task RunAsync()
        {
            _clock.Start();
            return Task.WhenAll(Enumerable.Range(0, Outstanding).Select(async caller =>
            {
                var random = new Random(caller);
                while (!_stopping)
                {
                    var started = _clock.Elapsed;
                    try
                    {
                        await array.GetAsync(random.Next(Pages) * 512L + random.Next(512));
                    }
                    catch (Exception)
                    {
                        Interlocked.Increment(ref _failed);
                        continue;
                    }
                    var now = _clock.Elapsed;
                    Interlocked.Increment(ref _buckets[Math.Min((int)(now.TotalMilliseconds / BucketMilliseconds), _buckets.Length - 1)]);
                    var took = (now - started).Ticks;
                    for (var slowest = Interlocked.Read(ref _slowestTicks); took > slowest; slowest = Interlocked.Read(ref _slowestTicks))
                        if (Interlocked.CompareExchange(ref _slowestTicks, took, slowest) == slowest) break;
                }
            }));
        }

        public void Stop() => _stopping = true;

        /// <summary>Calls a second that completed from <paramref name="from"/> to <paramref name="to"/>, whole buckets only.</summary>
        public double Rate(TimeSpan from, TimeSpan to)
        {
            var (first, last) = ((int)Math.Ceiling(from.TotalMilliseconds / BucketMilliseconds), (int)(to.TotalMilliseconds / BucketMilliseconds));
            if (last <= first) return 0;
            long calls = 0;
            for (var bucket = first; bucket < last; bucket++) calls += _buckets[bucket];
            return calls / ((last - first) * BucketMilliseconds / 1000.0);
        }
    }
}
