using System.Diagnostics.Metrics;
using OrleansDsm.Pages;

namespace OrleansDsm.Tests.Caching;

[Collection(ClusterCollection.Name)]
public sealed class CacheMetricsAndPrefetchTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_sequential_scan_fetches_the_next_pages_ahead_of_the_reader()
    {
        await using var client = new DsmClient(fixture.Cluster.Client, new OrleansDsm.Connection.DsmClientOptions { PrefetchPages = 4 });
        var array = await client.AllocateAsync<int>(UniqueNames.For("prefetch"), 64 * 1024);
        await array.GetAsync(0);
        await array.GetAsync(1024); // second consecutive page missed: pages 2 to 5 are fetched ahead
        var first = array.Region.FirstPage;
        bool AllFetched() => Enumerable.Range(2, 4).All(page => client.Cache!.Holds(first + page, array.Region.Epoch));
        for (var wait = 0; wait < 300 && !AllFetched(); wait++) await Task.Delay(10);
        Assert.True(AllFetched(), "pages 2 to 5 should have been fetched ahead");

        var fillsBefore = client.Cache!.Metrics.Misses;
        for (var page = 2; page <= 5; page++) await array.GetAsync(page * 1024L);

        Assert.Equal(fillsBefore, client.Cache.Metrics.Misses);
        Assert.False(client.Cache!.Holds(first + 7, array.Region.Epoch), "the depth of 4 bounds how far ahead it reads");
    }

    [Fact]
    public async Task Hits_misses_revocations_and_writer_stalls_are_published_as_metrics()
    {
        var measured = new Dictionary<string, double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name is "OrleansDsm.Client" or "OrleansDsm.Silo") l.EnableMeasurementEvents(instrument);
        };
        void Record(Instrument instrument, double value)
        {
            lock (measured) measured[instrument.Name] = measured.GetValueOrDefault(instrument.Name) + value;
        }
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => Record(instrument, value));
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => Record(instrument, value));
        listener.Start();

        await using var reader = new DsmClient(fixture.Cluster.Client, new OrleansDsm.Connection.DsmClientOptions { PrefetchPages = 0 });
        var name = UniqueNames.For("metrics");
        var writer = await fixture.Client.AllocateAsync<int>(name, 1024);
        var view = await reader.OpenAsync<int>(name);
        await view.GetAsync(0);
        for (var i = 0; i < 9; i++) await view.GetAsync(i);
        await writer.SetAsync(0, 1);   // revokes the reader's copy
        lock (measured)
        {
            Assert.True(measured.GetValueOrDefault("dsm.page.invalidations_sent") >= 1, "the page should count its revocation");
            Assert.True(measured.ContainsKey("dsm.page.writer_stall"), "the page should record how long the write waited");
            measured.Clear();
        }
        listener.RecordObservableInstruments();

        lock (measured)
        {
            Assert.True(measured.GetValueOrDefault("dsm.cache.hits") >= 9, $"hits {measured.GetValueOrDefault("dsm.cache.hits")}");
            Assert.True(measured.GetValueOrDefault("dsm.cache.misses") >= 1);
            Assert.True(measured.GetValueOrDefault("dsm.cache.invalidations_received") >= 1);
        }
        Assert.Equal(9, reader.Cache!.Metrics.Hits);
        Assert.Equal(1, reader.Cache.Metrics.Misses);
        Assert.Equal(1, reader.Cache.Metrics.InvalidationsReceived);
        Assert.Equal(1, await view.GetAsync(0));
    }
}
