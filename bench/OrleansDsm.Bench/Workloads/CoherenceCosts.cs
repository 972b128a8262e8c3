using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansDsm.Bench.Hosting;
using OrleansDsm.Bench.Harness;

namespace OrleansDsm.Bench.Workloads;

/// <summary>
/// What coherence costs: a write to a page that one other client caches (the page revokes the copy first) beside a
/// write to a page nobody caches; and the lease renewals of a client caching many pages.
/// </summary>
public static class CoherenceCosts
{
    public static async Task RunAsync(BenchContext context)
    {
        await WriteToCachedPageAsync(context);
        await RenewalsAsync(context);
    }

    private static async Task WriteToCachedPageAsync(BenchContext context)
    {
        const int pages = 1000;
        var calls = context.Quick ? 1000 : 3000;
        // The other client stands for another process: an Orleans client of its own, so its connections (the gateway's
        // and the direct channel's) are not the writer's, and a revocation travels on a connection the write does not.
        using var readerHost = BenchClientHost.Build(context.Gateway);
        await readerHost.StartAsync();
        var readerOrleans = readerHost.Services.GetRequiredService<IClusterClient>();
        var reader = new DsmClient(readerOrleans, new OrleansDsm.Connection.DsmClientOptions { PrefetchPages = 0 });
        var name = $"bench-coherence-{Guid.NewGuid():N}";
        var writer = await context.Dsm.AllocateAsync<long>(name, pages * 512L);
        var cached = await reader.OpenAsync<long>(name);
        await writer.WriteAsync(0, new long[pages * 512]);

        var subjects = new Func<int, Task>[]
        {
            // The other client caches the page just before each write; the read is not timed separately.
            async i => await writer.SetAsync((i % (pages / 2)) * 2 * 512L + 1, i),
            async i => await writer.SetAsync(((i % (pages / 2)) * 2 + 1) * 512L + 1, i),
        };
        // The bare floor beside them: one grain call, and one that first waits on a callback to a client.
        var bare = context.Orleans.GetGrain<Baseline.IBareCallbackGrain>(Random.Shared.NextInt64());
        var observer = new Baseline.BareObserver(); // kept alive to the end (GC.KeepAlive): Orleans holds observers weakly
        await bare.Register(readerOrleans.CreateObjectReference<Baseline.IBareObserver>(observer));
        await bare.SetAfterCallback(0);

        var withHolder = new List<double>();
        var without = new List<double>();
        var bareWithCallback = new List<double>();
        var barePlain = new List<double>();
        for (var run = 0; run < context.Runs; run++)
        {
            var latencies = await Measure.InterleavedLatenciesAsync(
            [
                async i =>
                {
                    await cached.GetAsync((i % (pages / 2)) * 2 * 512L);
                    var started = System.Diagnostics.Stopwatch.GetTimestamp();
                    await subjects[0](i);
                    withHolder.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMicroseconds);
                },
                async i =>
                {
                    var started = System.Diagnostics.Stopwatch.GetTimestamp();
                    await subjects[1](i);
                    without.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMicroseconds);
                },
                async i =>
                {
                    var started = System.Diagnostics.Stopwatch.GetTimestamp();
                    await bare.SetAfterCallback(i);
                    bareWithCallback.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMicroseconds);
                },
                async i =>
                {
                    var started = System.Diagnostics.Stopwatch.GetTimestamp();
                    await bare.Set(i);
                    barePlain.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMicroseconds);
                },
            ], calls);
        }
        foreach (var list in new[] { withHolder, without, bareWithCallback, barePlain }) list.Sort();
        var conditions = $"{BenchContext.Setup}; activations=warm; 1 outstanding; interleaved; {calls} x {context.Runs} runs; the other client on an Orleans client of its own";
        context.Report.Add("dsm.set.cached_by_other.p50", Stats.Percentile(withHolder, 0.5), "us", conditions + "; the page is cached by one other client");
        context.Report.Add("dsm.set.uncached_page.p50", Stats.Percentile(without, 0.5), "us", conditions + "; nobody caches the page");
        context.Report.Ratio("dsm.set.cached_by_other_vs_uncached", Stats.Percentile(withHolder, 0.5), Stats.Percentile(without, 0.5), conditions);
        var bareConditions = $"{conditions}; a bare grain holding one long in memory (no storage), its observer on the Orleans client of the DSM's other client";
        context.Report.Add("orleans.call_with_client_callback.p50", Stats.Percentile(bareWithCallback, 0.5), "us", bareConditions + "; the call first calls the observer back and waits for its answer");
        context.Report.Add("orleans.call_plain.p50", Stats.Percentile(barePlain, 0.5), "us", bareConditions);
        context.Report.Ratio("orleans.call_with_client_callback_vs_plain", Stats.Percentile(bareWithCallback, 0.5), Stats.Percentile(barePlain, 0.5), bareConditions);
        GC.KeepAlive(observer);
        await context.Dsm.FreeAsync(name);
        await reader.DisposeAsync();
        await readerHost.StopAsync();
    }

    /// <summary>One session's cache metrics, read from the public meter as any monitoring tool would.</summary>
    private static Dictionary<string, long> SessionMetrics(string session)
    {
        var values = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "OrleansDsm.Client") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag.Key == "dsm.session" && (string?)tag.Value == session) values[instrument.Name] = value;
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return values;
    }

    private static async Task RenewalsAsync(BenchContext context)
    {
        var pages = context.Quick ? 20_000 : 100_000;
        await using var client = new DsmClient(context.Orleans, new OrleansDsm.Connection.DsmClientOptions { CacheBytes = 1L << 30, PrefetchPages = 0 });
        var array = await client.AllocateAsync<byte>($"bench-renewals-{Guid.NewGuid():N}", pages * 4096L);
        await Measure.ThroughputAsync(page => array.GetAsync(page * 4096L).AsTask(), pages, 256);
        var session = client.CacheSession!.Value.ToString();
        var before = SessionMetrics(session);
        var watched = TimeSpan.FromSeconds(context.Quick ? 3 : 5);
        await Task.Delay(watched);
        var after = SessionMetrics(session);
        var renewals = after["dsm.cache.lease_renewals"] - before["dsm.cache.lease_renewals"];
        var cachedPages = after["dsm.cache.pages"];

        var conditions = $"{BenchContext.Setup}; activations=warm (every page cached); {cachedPages} pages cached by one client, watched for {watched.TotalSeconds:0} s with a 1 s lease";
        context.Report.Add("dsm.cache.pages_cached", cachedPages, "pages", conditions);
        context.Report.Add("dsm.cache.renewals_per_lease_per_silo", renewals / watched.TotalSeconds, "calls", conditions + "; per second = per lease");
        await client.DisposeAsync();
        await context.Dsm.FreeAsync(array.Name, array.OwnerToken);
    }
}
