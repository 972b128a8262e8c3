using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansDsm.Bench.Harness;

namespace OrleansDsm.Bench.Hosting;

/// <summary>
/// One client process of the Zipf mix run from several processes ("zipf-client GATEWAY STRICT UNCACHED"): an Orleans
/// client of its own, and so a direct connection of its own, with one session caching both regions. It reads every page
/// of both, prints "ready", then takes commands on standard input, one a line: "run strict N" or "run uncached N" makes
/// N operations of the mix one at a time on that region and prints "done SETS SECONDS PROCESSOR" (the sets made, their
/// time, and the processor time the process used meanwhile, in seconds); "quit", or the end of input, ends it.
/// </summary>
public static class ZipfClientProcess
{
    public const string ReadyLine = "ready";

    public static async Task<int> RunAsync(string gateway, string strictName, string uncachedName)
    {
        using var host = BenchClientHost.Build(gateway);
        await host.StartAsync();
        var client = new DsmClient(host.Services.GetRequiredService<IClusterClient>());
        var arrays = new Dictionary<string, Arrays.SharedArray<long>>
        {
            ["strict"] = await client.OpenAsync<long>(strictName),
            ["uncached"] = await client.OpenAsync<long>(uncachedName),
        };
        foreach (var array in arrays.Values) await ZipfMix.ReadEveryPageAsync(array);
        // Measured as the mix in one process is, in steady state: with gets served over the direct channel, which a
        // new client connects to a moment after it starts.
        for (var waited = TimeSpan.Zero; !await ServedOverChannelAsync(arrays["uncached"]); waited += TimeSpan.FromMilliseconds(100))
        {
            if (waited > TimeSpan.FromSeconds(30))
            {
                await Console.Error.WriteLineAsync("zipf-client: the direct channel did not serve a get within 30 s");
                return 1;
            }
            await Task.Delay(100);
        }
        var table = ZipfMix.Table();
        Console.WriteLine(ReadyLine);
        while (Console.ReadLine() is { } line && line != "quit")
        {
            if (line.Split(' ') is not ["run", var mode, var count] || !arrays.TryGetValue(mode, out var target))
            {
                await Console.Error.WriteLineAsync($"zipf-client: unknown command '{line}'");
                return 2;
            }
            var writes = new SetTally();
            var processor = ProcessorTime.Seconds(Environment.ProcessId);
            await ZipfMix.RunClientAsync(target, table, int.Parse(count, CultureInfo.InvariantCulture), outstanding: 1, writes);
            processor = ProcessorTime.Seconds(Environment.ProcessId) - processor;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"done {writes.Count} {writes.Seconds:R} {processor:R}"));
        }
        await client.DisposeAsync();
        await host.StopAsync();
        return 0;
    }

    private static async Task<bool> ServedOverChannelAsync(Arrays.SharedArray<long> array)
    {
        var served = CacheCounters.Read().GetValueOrDefault("dsm.direct.requests_served");
        await array.GetAsync(0);
        return CacheCounters.Read().GetValueOrDefault("dsm.direct.requests_served") > served;
    }
}
