using OrleansDsm.Testing;
using OrleansDsm.Connection;

namespace OrleansDsm.Tests.Processes;

/// <summary>
/// A client that cannot reach its cluster says why, gateway by gateway: Orleans' client only retries until the connect
/// times out, whether nothing listens at a gateway or something other than the cluster's gateway does.
/// </summary>
public sealed class ConnectFailureTests(SiloProcessFixture fixture) : IClassFixture<SiloProcessFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task A_port_where_nothing_listens_is_named_as_such()
    {
        var port = LoopbackPorts.Free();
        var refused = await ConnectFailureAsync(new DsmClientOptions { Gateways = [$"127.0.0.1:{port}"] });
        Assert.Equal($"Cannot reach the cluster at 127.0.0.1:{port}: no gateway answered within 2 s (nothing listens at 127.0.0.1:{port}).", refused.Message);
    }

    [Theory]
    [InlineData("dashboard")] // a user who gives the port in the dashboard's address
    [InlineData("silo")]      // a user who gives the silo-to-silo port (11111 by default) for the gateway's (30000)
    public async Task Another_of_the_silos_ports_is_named_as_accepting_connections_but_not_a_gateway(string which)
    {
        var port = which == "dashboard" ? fixture.Silo.HttpPort : fixture.Silo.SiloPort;
        var refused = await ConnectFailureAsync(new DsmClientOptions { Gateways = [$"127.0.0.1:{port}"] });
        Assert.Contains($"(127.0.0.1:{port} accepts connections but did not answer as a gateway of cluster 'dsm': it may be another of the silo's ports", refused.Message);
    }

    [Fact]
    public async Task The_gateway_of_a_silo_of_another_cluster_is_named_as_accepting_connections_but_not_a_gateway_of_this_one()
    {
        var refused = await ConnectFailureAsync(new DsmClientOptions { Gateways = [fixture.Silo.Gateway], ClusterId = "another" });
        Assert.Contains($"{fixture.Silo.Gateway} accepts connections but did not answer as a gateway of cluster 'another'", refused.Message);
        Assert.Contains("a silo of another cluster or service id", refused.Message);
    }

    [Fact]
    public async Task Each_gateway_of_a_list_is_described()
    {
        var port = LoopbackPorts.Free();
        var refused = await ConnectFailureAsync(new DsmClientOptions { Gateways = [$"127.0.0.1:{port}", $"127.0.0.1:{fixture.Silo.HttpPort}"] });
        Assert.Contains($"(nothing listens at 127.0.0.1:{port}; 127.0.0.1:{fixture.Silo.HttpPort} accepts connections but", refused.Message);
    }

    private static async Task<ClusterUnreachableException> ConnectFailureAsync(DsmClientOptions options)
    {
        options.ConnectTimeout = Patience;
        return await Assert.ThrowsAsync<ClusterUnreachableException>(async () => await (await DsmClient.ConnectAsync(options)).DisposeAsync());
    }
}
