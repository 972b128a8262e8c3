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

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    public void An_advertised_address_that_means_any_is_refused(string any)
    {
        var problems = new SiloHostOptions { Storage = "PostgreSQL", ConnectionString = "Host=db", AdvertisedAddress = any }.Problems();
        Assert.Contains(problems, p => p.StartsWith($"Silo:AdvertisedAddress must be this machine's address as other silos and clients reach it, not {any}", StringComparison.Ordinal));
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
    public void Refusing_new_pages_below_the_level_that_sheds_idle_ones_is_refused()
    {
        var problems = new OrleansDsm.Grains.Hosting.AddressSpaceOptions { MemorySheddingPercent = 80, MemoryRefusalPercent = 70 }.Problems();

        Assert.Equal(["Dsm:MemoryRefusalPercent (70) is below Dsm:MemorySheddingPercent (80): pages would refuse new pages' writes before idle pages are shed to make room; make it at least as high."],
            problems);
        Assert.Empty(new OrleansDsm.Grains.Hosting.AddressSpaceOptions { MemorySheddingPercent = 90, MemoryRefusalPercent = 90 }.Problems());
        // An out-of-range value is named for its range alone.
        Assert.Single(new OrleansDsm.Grains.Hosting.AddressSpaceOptions { MemoryRefusalPercent = 5 }.Problems());
    }

    [Fact]
    public async Task A_malformed_gateway_is_refused_before_connecting()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            DsmClient.ConnectAsync(new OrleansDsm.Connection.DsmClientOptions { Gateways = ["localhost"] }));
        Assert.Contains("'localhost'", error.Message);
    }

    [Fact]
    public async Task No_gateway_and_a_port_out_of_range_are_refused_before_connecting()
    {
        var none = await Assert.ThrowsAsync<ArgumentException>(() => DsmClient.ConnectAsync(new OrleansDsm.Connection.DsmClientOptions { Gateways = [] }));
        Assert.Contains("At least one gateway (host:port) is needed", none.Message);
        var port = await Assert.ThrowsAsync<ArgumentException>(() =>
            DsmClient.ConnectAsync(new OrleansDsm.Connection.DsmClientOptions { Gateways = ["127.0.0.1:30000", "127.0.0.1:65536"] }));
        Assert.Contains("'127.0.0.1:65536' is not of the form host:port", port.Message);
    }

    /// <summary>Each option out of its range, and the words its refusal must hold.</summary>
    public static TheoryData<string, Action<OrleansDsm.Connection.DsmClientOptions>> OptionsOutOfRange => new()
    {
        { "DsmClientOptions.MetricsInterval is zero (no reports) or positive", options => options.MetricsInterval = TimeSpan.FromSeconds(-1) },
        { "DsmClientOptions.DirectIdleTimeout is positive", options => options.DirectIdleTimeout = TimeSpan.Zero },
        { "DsmClientOptions.DirectKeepAlive is zero (never) or from 1 s to 2 hours", options => options.DirectKeepAlive = TimeSpan.FromMilliseconds(500) },
        { "DsmClientOptions.CacheBytes is zero (no cache) or positive", options => options.CacheBytes = -1 },
        { "DsmClientOptions.PrefetchPages is zero (no prefetching) or positive", options => options.PrefetchPages = -4 },
        { "DsmClientOptions.RetryBudget is zero or positive", options => options.RetryBudget = TimeSpan.FromSeconds(-30) },
        { "DsmClientOptions.RetryInterval is zero or positive, up to a day", options => options.RetryInterval = TimeSpan.FromDays(30) },
        { "DsmClientOptions.ResponseTimeout is positive", options => options.ResponseTimeout = TimeSpan.Zero },
        { "DsmClientOptions.ConnectTimeout is positive", options => options.ConnectTimeout = TimeSpan.FromSeconds(-10) },
        { "DsmClientOptions.GatewayRefreshInterval is positive", options => options.GatewayRefreshInterval = TimeSpan.Zero },
    };

    [Theory]
    [MemberData(nameof(OptionsOutOfRange))]
    public async Task A_client_option_out_of_its_range_is_refused_naming_it_before_connecting(string named, Action<OrleansDsm.Connection.DsmClientOptions> spoil)
    {
        // A gateway where nothing listens: were the options taken, the connect would time out instead.
        var options = new OrleansDsm.Connection.DsmClientOptions { Gateways = ["127.0.0.1:1"] };
        spoil(options);
        var refused = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => DsmClient.ConnectAsync(options));
        Assert.Contains(named, refused.Message);
    }

    [Fact]
    public async Task An_empty_cluster_id_is_refused_before_connecting()
    {
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => DsmClient.ConnectAsync(new OrleansDsm.Connection.DsmClientOptions { ClusterId = " " }));
        Assert.Contains("DsmClientOptions.ClusterId and ServiceId name the cluster", refused.Message);
    }
}
