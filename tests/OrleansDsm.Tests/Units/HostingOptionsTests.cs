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
    public async Task A_malformed_gateway_is_refused_before_connecting()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            DsmClient.ConnectAsync(new OrleansDsm.Connection.DsmClientOptions { Gateways = ["localhost"] }));
        Assert.Contains("'localhost'", error.Message);
    }
}
