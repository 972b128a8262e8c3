using System.CommandLine;
using System.Diagnostics;
using OrleansDsm.Cli.Running;
using OrleansDsm.Regions;

namespace OrleansDsm.Cli.Verbs;

/// <summary>
/// <c>dsm bench [--ops N] [--outstanding K]</c>: a quick health check of the cluster from this machine, on a scratch
/// Uncached region it frees afterwards: element set and get latency one call at a time, and get throughput with K
/// calls in flight. The full, side-by-side benchmark is bench/run.sh.
/// </summary>
internal static class BenchVerb
{
    private const int Pages = 64;
    private const int ElementsPerPage = 512;

    public static Command Create()
    {
        var ops = new Option<int>("--ops") { Description = "Calls per measurement.", DefaultValueFactory = _ => 2000, CustomParser = WholeNumberParser.Parse<int> };
        var outstanding = new Option<int>("--outstanding") { Description = "Calls in flight for the throughput figure.", DefaultValueFactory = _ => 64, CustomParser = WholeNumberParser.Parse<int> };
        var command = new Command("bench", "Measure element get/set latency and get throughput against the cluster, on a scratch region.") { ops, outstanding };
        command.SetAction((parse, cancellation) => CliSession.RunAsync(parse, async (client, token) =>
        {
            var (count, inFlight) = (parse.GetValue(ops), parse.GetValue(outstanding));
            if (count is < 1 or > 10_000_000) throw new ArgumentException($"--ops {count} is not between 1 and 10000000.");
            if (inFlight is < 1 or > 4096) throw new ArgumentException($"--outstanding {inFlight} is not between 1 and 4096.");
            var name = $"dsm-bench-{Guid.NewGuid():N}";
            var array = await client.AllocateAsync<long>(name, Pages * ElementsPerPage, Consistency.Uncached, token);
            try
            {
                long Index(int i) => i % Pages * ElementsPerPage + i / Pages % ElementsPerPage;
                var set = await LatenciesAsync(count, i => array.SetAsync(Index(i), i, token));
                var get = await LatenciesAsync(count, i => array.GetAsync(Index(i), token).AsTask());
                // More tasks than calls would only idle: the figure says how many were in flight.
                inFlight = Math.Min(inFlight, count);
                var next = -1;
                var clock = Stopwatch.StartNew();
                await Task.WhenAll(Enumerable.Range(0, inFlight).Select(async _ =>
                {
                    int i;
                    while ((i = Interlocked.Increment(ref next)) < count) await array.GetAsync(Index(i), token);
                }));
                var rate = count / clock.Elapsed.TotalSeconds;
                if (parse.GetValue(JsonOption.Instance))
                    JsonOption.Write(new { ops = count, outstanding = inFlight, setP50Us = Percentile(set, 0.5), setP99Us = Percentile(set, 0.99), getP50Us = Percentile(get, 0.5), getP99Us = Percentile(get, 0.99), getOpsPerSecond = Math.Round(rate) });
                else
                {
                    Console.WriteLine($"set  p50 {Percentile(set, 0.5),8:F1} us   p99 {Percentile(set, 0.99),8:F1} us   ({Counted.Of(count, "call")}, one at a time)");
                    Console.WriteLine($"get  p50 {Percentile(get, 0.5),8:F1} us   p99 {Percentile(get, 0.99),8:F1} us   ({Counted.Of(count, "call")}, one at a time)");
                    Console.WriteLine($"get  {rate,10:F0} ops/s                  ({inFlight} in flight)");
                }
            }
            finally
            {
                await client.FreeAsync(name, CancellationToken.None);
            }
        }, cancellation));
        return command;
    }

    private static async Task<double[]> LatenciesAsync(int count, Func<int, Task> call)
    {
        var latencies = new double[count];
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await call(i);
            latencies[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }
        Array.Sort(latencies);
        return latencies;
    }

    private static double Percentile(double[] sorted, double fraction) =>
        Math.Round(sorted[Math.Min(sorted.Length - 1, (int)(fraction * sorted.Length))], 1);
}
