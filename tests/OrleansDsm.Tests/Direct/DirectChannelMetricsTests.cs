using OrleansDsm.Connection;
using OrleansDsm.Regions;
using OrleansDsm.Testing;

namespace OrleansDsm.Tests.Direct;

/// <summary>
/// A client's direct channel publishes on the meter <c>OrleansDsm.Client</c> whether it is connected, what it served
/// and why its attempts to connect failed: a client without its channel still works, over slower Orleans calls, so
/// these are how its user sees the difference.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class DirectChannelMetricsTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_connected_channel_says_so_and_counts_what_it_served()
    {
        await using var client = new DsmClient(fixture.Cluster.Client);
        var array = await client.AllocateAsync<long>(UniqueNames.For("channel-metrics"), 512, Consistency.Uncached);
        await ConnectedChannels.OpenAsync(client.Direct!);
        using var meter = new ChannelMeter(client.Direct!.Session);
        var served = meter.Read()["dsm.direct.requests_served"];

        await array.SetAsync(5, 55);
        Assert.Equal(55, await array.GetAsync(5));

        var now = meter.Read();
        Assert.Equal(1, now["dsm.direct.connected"]);
        Assert.Equal(1, now["dsm.direct.connections"]);
        Assert.Equal(served + 2, now["dsm.direct.requests_served"]);
        Assert.Equal(client.Direct.Served, now["dsm.direct.requests_served"]);
        Assert.Equal(0, now["dsm.direct.connect_failures"]);
    }

    [Fact]
    public async Task A_client_given_tls_keeps_off_a_channel_in_the_clear_and_counts_why()
    {
        using var certificates = new TestCertificates("channel-metrics-authority");
        await using var client = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { TlsCertificate = certificates.Issue("client", server: false) });
        var array = await client.AllocateAsync<long>(UniqueNames.For("channel-metrics-tls"), 512, Consistency.Uncached);
        using var meter = new ChannelMeter(client.Direct!.Session);

        await array.SetAsync(5, 55); // asks for a connection, which the plain channel of the test silos cannot be
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (meter.Read(reason: "plaintext")["dsm.direct.connect_failures"] == 0)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(15), "the refused plaintext channel was never counted");
            await Task.Delay(50);
        }

        Assert.Equal(55, await array.GetAsync(5)); // served by Orleans calls
        var now = meter.Read();
        Assert.Equal(0, now["dsm.direct.connected"]);
        Assert.Equal(0, now["dsm.direct.connections"]);
        Assert.Equal(0, now["dsm.direct.requests_served"]);
        Assert.Equal(0, meter.Read(reason: "tls")["dsm.direct.connect_failures"]);
    }
}
