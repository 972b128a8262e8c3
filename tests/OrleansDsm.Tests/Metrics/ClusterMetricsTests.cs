using Microsoft.Extensions.DependencyInjection;
using OrleansDsm.Connection;
using OrleansDsm.Metrics;
using OrleansDsm.Regions;

namespace OrleansDsm.Tests.Metrics;

/// <summary>
/// Every client and silo reports its DSM counters to the cluster's metrics grain, which the dashboard and the
/// <c>/dsm/metrics</c> page show: cache hits and misses, revocations on both sides, writer stalls, storage writes.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterMetricsTests(ClusterFixture fixture)
{
    private IMetricsGrain Metrics => fixture.Cluster.Client.GetGrain<IMetricsGrain>(0);

    [Fact]
    public async Task Clients_and_silos_report_hits_misses_revocations_stalls_and_storage_writes()
    {
        await using var reader = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { MetricsInterval = TimeSpan.FromMilliseconds(100) });
        await using var writer = new DsmClient(fixture.Cluster.Client);
        var array = await reader.AllocateAsync<long>(UniqueNames.For("metrics"), 4 * 512);
        var written = await writer.OpenAsync<long>(array.Name);
        for (var round = 1; round <= 5; round++)
        {
            for (var i = 0; i < 100; i++) await array.GetAsync(i * 7 % array.Length);
            await written.SetAsync(3, round); // revokes the reader's copy of page 0
        }
        var source = $"client {reader.CacheSession}";

        var summary = await EventuallyAsync(state =>
            state.Sources.FirstOrDefault(s => s.Name == source) is { Counters: { CacheMisses: > 0, InvalidationsReceived: >= 5 } counters }
            && counters.CacheHits + counters.CacheMisses >= 500
            && state.Sources.Count(s => s.Name.StartsWith("silo ", StringComparison.Ordinal)) == 2
            && state.Totals is { InvalidationsSent: >= 5, WriterStalls: >= 5, StorageWrites: >= 5 });

        var mine = summary.Sources.Single(s => s.Name == source).Counters;
        Assert.InRange(mine.CacheHitRate!.Value, 0.5, 1.0);
        Assert.Equal(0, mine.StorageWrites);
        Assert.True(summary.MeanStorageWriteMilliseconds > 0);
        Assert.True(summary.Totals.StorageWriteMaxMilliseconds >= summary.MeanStorageWriteMilliseconds);
        Assert.True(summary.MeanWriterStallMilliseconds >= 0);
        Assert.Equal(summary.Totals.CacheHitRate, summary.CacheHitRate);
    }

    [Fact]
    public async Task Silos_count_the_requests_their_direct_channel_served_and_the_connections_it_refused()
    {
        await using var client = new DsmClient(fixture.Cluster.Client);
        var array = await client.AllocateAsync<long>(UniqueNames.For("metrics-direct"), 4 * 512, Consistency.Uncached);
        await Direct.ConnectedChannels.OpenAsync(client.Direct!);
        var (served, refused, clientServed) = (SiloTotals().DirectRequestsServed, SiloTotals().DirectConnectionsRefused, client.Direct!.Served);

        for (var i = 0; i < 10; i++)
        {
            var index = i % 4 * 512 + i;
            await array.SetAsync(index, i);
            Assert.Equal(i, await array.GetAsync(index));
        }
        // A stranger that does not say hello: the silo closes its connection, and counts it.
        var endpoint = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<Grains.Direct.DirectListener>().Endpoint!;
        using (var stranger = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp))
        {
            await stranger.ConnectAsync(System.Net.IPAddress.Parse(endpoint.Address), endpoint.Port);
            await stranger.SendAsync(new byte[OrleansDsm.Direct.DirectWire.HelloSize], System.Net.Sockets.SocketFlags.None);
            Assert.Equal(0, await stranger.ReceiveAsync(new byte[16], System.Net.Sockets.SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(10)));
        }

        Assert.Equal(clientServed + 20, client.Direct.Served);
        Assert.Equal(served + 20, SiloTotals().DirectRequestsServed);
        Assert.Equal(refused + 1, SiloTotals().DirectConnectionsRefused);
    }

    /// <summary>The counters of the test cluster's silos, added up.</summary>
    private MetricsSample SiloTotals() => fixture.Cluster.Silos
        .Select(silo => silo.ServiceProvider.GetRequiredService<Grains.Metrics.SiloMetrics>().Totals)
        .Aggregate(new MetricsSample(), (sum, one) => sum.Plus(one));

    [Fact]
    public async Task A_malformed_report_is_refused_and_changes_nothing()
    {
        var source = "client " + Guid.NewGuid();
        await Metrics.Report(source, new MetricsSample(CacheHits: 3));

        var unnamed = await Assert.ThrowsAsync<ArgumentException>(() => Metrics.Report(" ", new MetricsSample(CacheHits: 1)));
        Assert.Contains("1 to 200 characters", unnamed.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => Metrics.Report(new string('x', 201), new MetricsSample()));
        var negative = await Assert.ThrowsAsync<ArgumentException>(() => Metrics.Report(source, new MetricsSample(CacheHits: 10, StorageWrites: -1)));
        Assert.Contains("negative counter", negative.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => Metrics.Report(source, new MetricsSample(CacheHits: 10, RevocationsUnanswered: -1)));
        await Assert.ThrowsAsync<ArgumentException>(() => Metrics.Report(source, new MetricsSample(CacheHits: 10, DirectRequestsServed: -1)));
        await Assert.ThrowsAsync<ArgumentException>(() => Metrics.Report(source, new MetricsSample(CacheHits: 10, DirectConnectionsRefused: -1)));

        var state = await Metrics.GetState();
        Assert.Equal(3, state.Sources.Single(s => s.Name == source).Counters.CacheHits);
        Assert.DoesNotContain(state.Sources, s => s.Name.Trim().Length == 0 || s.Name.Length > 200);
    }

    [Fact]
    public async Task A_negative_report_interval_is_refused_before_anything_starts()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new DsmClient(fixture.Cluster.Client, new DsmClientOptions { MetricsInterval = TimeSpan.FromSeconds(-1) }));
        Assert.Contains("MetricsInterval", error.Message);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            DsmClient.ConnectAsync(new DsmClientOptions { MetricsInterval = TimeSpan.FromSeconds(-1) }));
    }

    /// <summary>The metrics summary once it satisfies <paramref name="condition"/>; reports come every few hundred milliseconds.</summary>
    private async Task<MetricsSummary> EventuallyAsync(Func<MetricsSummary, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var state = await Metrics.GetState();
            if (condition(state)) return state;
            Assert.True(DateTime.UtcNow < deadline, $"the metrics never showed what was done: {System.Text.Json.JsonSerializer.Serialize(state)}");
            await Task.Delay(100);
        }
    }
}
