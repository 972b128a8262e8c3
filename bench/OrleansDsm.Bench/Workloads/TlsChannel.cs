using OrleansDsm.Bench.Harness;
using OrleansDsm.Connection;
using OrleansDsm.Regions;
using OrleansDsm.Testing;

namespace OrleansDsm.Bench.Workloads;

/// <summary>
/// What the direct channel gives a cluster with TLS: uncached single-element gets and sets with one call outstanding,
/// through a client whose channel is TLS beside one that makes every request an Orleans call over its TLS gateway
/// connection, taking turns, against a silo process of the product's with server TLS (a throwaway authority's ECDSA
/// P-256 certificates).
/// </summary>
public static class TlsChannel
{
    private const int Pages = 1000;

    public static async Task RunAsync(BenchContext context)
    {
        var calls = context.Quick ? 1500 : 4000;
        using var certificates = new TestCertificates("bench-authority");
        var cluster = $"bench-tls-{Guid.NewGuid():N}";
        await using var silo = await BenchSiloProcess.StartTlsAsync(cluster,
            certificates.WritePkcs12(certificates.Issue("silo", server: true), "silo.pfx"), certificates.AuthorityFile);
        DsmClientOptions Options(bool channel) => new()
        {
            Gateways = [silo.Gateway], ClusterId = cluster, ServiceId = cluster, TlsAuthority = certificates.Authority, DirectChannel = channel,
        };
        await using var onChannel = await DsmClient.ConnectAsync(Options(channel: true));
        await using var asCalls = await DsmClient.ConnectAsync(Options(channel: false));
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (onChannel.Direct?.Current is null)
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(20)) throw new InvalidOperationException("bench: the TLS client's direct channel did not connect");
            await Task.Delay(20);
        }
        var name = $"bench-tls-{Guid.NewGuid():N}";
        var channelArray = await onChannel.AllocateAsync<long>(name, Pages * 512L, Consistency.Uncached);
        var callArray = await asCalls.OpenAsync<long>(name);
        for (var page = 0; page < Pages; page++) await channelArray.SetAsync(page * 512L, page);

        var subjects = new (string Name, Func<int, Task> Operation)[]
        {
            ("dsm.tls.get", i => channelArray.GetAsync((i % Pages) * 512L + i % 512).AsTask()),
            ("dsm.tls.get_as_calls", i => callArray.GetAsync((i % Pages) * 512L + i % 512).AsTask()),
            ("dsm.tls.set", i => channelArray.SetAsync((i % Pages) * 512L + i % 512, i)),
            ("dsm.tls.set_as_calls", i => callArray.SetAsync((i % Pages) * 512L + i % 512, i)),
        };
        var served = onChannel.Direct!.Served;
        var p50 = subjects.ToDictionary(s => s.Name, _ => new List<double>());
        // One untimed run first: the TLS silo and both clients are fresh.
        for (var run = -1; run < context.Runs; run++)
        {
            var latencies = await Measure.InterleavedLatenciesAsync(subjects.Select(s => s.Operation).ToList(), calls);
            if (run < 0) continue;
            for (var s = 0; s < subjects.Length; s++) p50[subjects[s].Name].Add(Stats.Percentile(latencies[s], 0.50));
        }
        // Every request of the channel's subjects should have gone over it; the share that did is reported, not assumed.
        var channelShare = (onChannel.Direct.Served - served) / (2.0 * calls * (context.Runs + 1));

        var conditions = $"storage=memory (in the silo, binary, write-behind 1 s); silos=1, the product's silo with server TLS (Silo:TlsCertificate, Silo:TlsAuthority); client process -> silo over loopback; region=Uncached; activations=warm; 1 outstanding; subjects interleaved in blocks of 25; one untimed run, then {calls} calls x {context.Runs} runs, median";
        foreach (var (subject, _) in subjects) context.Report.Add($"{subject}.p50", Stats.Median(p50[subject]), "us", conditions);
        context.Report.Add("dsm.tls.channel_share", channelShare, "fraction", conditions + "; of the channel client's requests, those its TLS channel answered");
        context.Report.Ratio("dsm.tls.get.p50_channel_vs_calls", Stats.Median(p50["dsm.tls.get"]), Stats.Median(p50["dsm.tls.get_as_calls"]), conditions);
        context.Report.Ratio("dsm.tls.set.p50_channel_vs_calls", Stats.Median(p50["dsm.tls.set"]), Stats.Median(p50["dsm.tls.set_as_calls"]), conditions);
        await onChannel.FreeAsync(name);
    }
}
