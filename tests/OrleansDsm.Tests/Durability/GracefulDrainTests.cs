using System.Diagnostics;
using OrleansDsm.Connection;
using OrleansDsm.Tests.Processes;

namespace OrleansDsm.Tests.Durability;

/// <summary>
/// A silo stopped with SIGTERM drains: its pages revoke every cached copy (while the clients can still answer, so the
/// drain does not wait out leases) and record that no lease is out, so the silo that serves them next writes at once.
/// The health endpoint says whether the silo is an active member.
/// </summary>
public sealed class GracefulDrainTests : IAsyncLifetime
{
    private static readonly TimeSpan CacheLease = TimeSpan.FromSeconds(20);
    private PostgresServer _postgres = null!;

    public async Task InitializeAsync() => _postgres = await PostgresServer.StartAsync();

    public async Task DisposeAsync() => await _postgres.DisposeAsync();

    [Fact]
    public async Task After_a_drain_the_next_activation_writes_without_waiting_out_leases()
    {
        var database = await _postgres.CreateDatabaseAsync("drain");
        string[] arguments = ["--Silo:Storage=PostgreSQL", $"--Silo:ConnectionString={database}", "--Silo:Dashboard=false", $"--Dsm:CacheLease={CacheLease}"];
        var silo = await SiloProcess.StartAsync(arguments);
        await using (var client = await silo.ConnectAsync())
        {
            var array = await client.AllocateAsync<long>("drained", 512);
            await array.SetAsync(0, 1);
            Assert.Equal(1, await array.GetAsync(0)); // cached: the page marks that a lease is out
            // The copy is revoked while the client still answers, so the drain does not wait out its lease.
            var stop = Stopwatch.StartNew();
            Assert.Equal(0, await silo.StopAsync(TimeSpan.FromSeconds(60)));
            Assert.True(stop.Elapsed < CacheLease / 2, $"the drain took {stop.Elapsed.TotalSeconds:0.0} s with a {CacheLease.TotalSeconds} s lease");
        }
        await silo.DisposeAsync();

        await using var restarted = await SiloProcess.StartOnPortsAsync(silo.SiloPort, silo.GatewayPort, arguments);
        await using var next = await restarted.ConnectAsync();
        var reopened = await next.OpenAsync<long>("drained");
        var write = Stopwatch.StartNew();
        await reopened.SetAsync(0, 2);
        Assert.True(write.Elapsed < CacheLease / 2, $"the first write took {write.Elapsed.TotalSeconds:0.0} s with a {CacheLease.TotalSeconds} s lease");
        Assert.Equal(2, await reopened.GetAsync(0));
    }

    [Fact]
    public async Task The_health_endpoint_reports_an_active_silo()
    {
        var database = await _postgres.CreateDatabaseAsync("health");
        await using var silo = await SiloProcess.StartAsync("--Silo:Storage=PostgreSQL", $"--Silo:ConnectionString={database}", "--Silo:Dashboard=false");
        using var http = new HttpClient();

        var response = await http.GetAsync($"http://localhost:{silo.HttpPort}/health");

        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}");
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

}
