using OrleansDsm.Silo.Hosting;

namespace OrleansDsm.Tests.Units;

public sealed class HostingOptionsTests
{
    [Fact]
    public void The_default_silo_options_are_valid()
    {
        Assert.Empty(new SiloHostOptions().Problems());
    }

    [Fact]
    public void Each_bad_setting_is_named()
    {
        var problems = new SiloHostOptions { SiloPort = 0, GatewayPort = 70000, ClusterId = "", Storage = "Cassandra" }.Problems();
        Assert.Contains(problems, p => p.Contains("Silo:SiloPort"));
        Assert.Contains(problems, p => p.Contains("Silo:GatewayPort"));
        Assert.Contains(problems, p => p.Contains("Silo:ClusterId"));
        Assert.Contains(problems, p => p.Contains("Cassandra"));
        Assert.Contains(new SiloHostOptions { GatewayPort = 11111 }.Problems(), p => p.Contains("must differ"));
    }

    [Fact]
    public void A_malformed_http_address_is_one_problem_not_also_an_exposed_dashboard()
    {
        Assert.Equal(["Silo:HttpAddress must be 'localhost' or an IP address (0.0.0.0 for all); it is '1.2.3.4.5'."],
            new SiloHostOptions { HttpAddress = "1.2.3.4.5" }.Problems());
        // A well-formed address beyond this machine without a password is still refused.
        Assert.Contains(new SiloHostOptions { HttpAddress = "0.0.0.0" }.Problems(), p => p.Contains("exposes the dashboard"));
    }

    [Fact]
    public async Task A_malformed_gateway_is_refused_before_connecting()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            DsmClient.ConnectAsync(new OrleansDsm.Connection.DsmClientOptions { Gateways = ["localhost"] }));
        Assert.Contains("'localhost'", error.Message);
    }

    [Fact]
    public async Task No_gateway_a_port_out_of_range_and_a_negative_metrics_interval_are_refused_before_connecting()
    {
        var none = await Assert.ThrowsAsync<ArgumentException>(() => DsmClient.ConnectAsync(new OrleansDsm.Connection.DsmClientOptions { Gateways = [] }));
        Assert.Contains("At least one gateway (host:port) is needed", none.Message);
        var port = await Assert.ThrowsAsync<ArgumentException>(() =>
            DsmClient.ConnectAsync(new OrleansDsm.Connection.DsmClientOptions { Gateways = ["127.0.0.1:30000", "127.0.0.1:65536"] }));
        Assert.Contains("'127.0.0.1:65536' is not of the form host:port", port.Message);
        var interval = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            DsmClient.ConnectAsync(new OrleansDsm.Connection.DsmClientOptions { MetricsInterval = TimeSpan.FromSeconds(-1) }));
        Assert.Contains("MetricsInterval", interval.Message);
    }
}
