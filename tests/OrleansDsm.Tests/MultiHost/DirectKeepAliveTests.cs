using System.Diagnostics;
using System.Text.RegularExpressions;
using OrleansDsm.Connection;
using OrleansDsm.Tests.Processes;

namespace OrleansDsm.Tests.MultiHost;

/// <summary>
/// Each end of a direct connection closes it once the other went silent without closing it (its machine died or was
/// cut off): TCP keepalive (<c>Dsm:DirectKeepAlive</c> on the silo, <c>DsmClientOptions.DirectKeepAlive</c> on the
/// client) asks, nobody answers, and the connection ends, where it stayed open for good. The silo and PostgreSQL are
/// hosts of their own; the test process is the client, and cutting the silo's link makes each end as unreachable to the
/// other as a dead machine.
/// </summary>
public sealed class DirectKeepAliveTests : IAsyncLifetime
{
    private NetworkLab _lab = null!;
    private PostgresServer _postgres = null!;
    private LabHost _siloHost = null!;
    private string _database = "";
    private string _lastListing = "";

    public async Task InitializeAsync()
    {
        _lab = await NetworkLab.CreateAsync();
        var db = await _lab.AddHostAsync("db", 20);
        _siloHost = await _lab.AddHostAsync("ka", 21);
        _postgres = await PostgresServer.StartAsync(db.Address, db.Namespace);
        _database = await _postgres.CreateDatabaseAsync("keepalive");
    }

    public async Task DisposeAsync()
    {
        await _postgres.DisposeAsync();
        await _lab.DisposeAsync();
    }

    [Fact]
    public async Task Silo_and_client_close_a_direct_connection_whose_other_end_can_no_longer_be_reached()
    {
        await using var silo = await SiloProcess.StartInNamespaceAsync(_siloHost.Namespace, _siloHost.Address,
            "--Silo:Storage=PostgreSQL", $"--Silo:ConnectionString={_database}", "--Silo:Dashboard=false", "--Dsm:DirectKeepAlive=00:00:02");
        var directPort = int.Parse(Regex.Match(silo.Output, @"direct channel=port (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        await using var client = await DsmClient.ConnectAsync(new DsmClientOptions
        {
            Gateways = [silo.Gateway], ConnectTimeout = TimeSpan.FromSeconds(30), DirectKeepAlive = TimeSpan.FromSeconds(2),
        });
        var array = await client.AllocateAsync<long>("kept", 512, Consistency.Uncached);
        await array.SetAsync(0, 1);
        Assert.Equal(1, await array.GetAsync(0)); // over the direct channel, which stays open afterwards
        Assert.Equal(1, await DirectConnectionsAsync(_siloHost.Namespace, $"sport = :{directPort}"));
        var clientSide = $"dst {_siloHost.Address}:{directPort}";
        Assert.Equal(1, await DirectConnectionsAsync(null, clientSide));

        await _lab.CutAsync(_siloHost);
        var cut = Stopwatch.StartNew();
        // Two seconds of silence, then three asks a second apart: about five seconds, on each side.
        foreach (var (side, ns, filter) in new[] { ("silo", _siloHost.Namespace, $"sport = :{directPort}"), ("client", (string?)null, clientSide) })
            while (await DirectConnectionsAsync(ns, filter) > 0)
            {
                Assert.True(cut.Elapsed < TimeSpan.FromSeconds(30), $"the {side} still holds a connection whose other end it cannot reach: {_lastListing}");
                await Task.Delay(250);
            }
        Assert.True(cut.Elapsed > TimeSpan.FromSeconds(1), $"the connections ended {cut.Elapsed.TotalSeconds:0.0} s after the cut, before any ask could go unanswered");
    }

    /// <summary>
    /// The established TCP connections <paramref name="filter"/> selects, as the kernel of the host in
    /// <paramref name="networkNamespace"/> (null: the test's own) lists them.
    /// </summary>
    private async Task<int> DirectConnectionsAsync(string? networkNamespace, string filter)
    {
        string[] command = ["ss", "-Htno", "state", "established", $"( {filter} )"];
        var start = new ProcessStartInfo(networkNamespace is null ? "ss" : "ip") { RedirectStandardOutput = true };
        foreach (var argument in networkNamespace is null ? command[1..] : ["netns", "exec", networkNamespace, .. command])
            start.ArgumentList.Add(argument);
        using var ss = Process.Start(start)!;
        var listing = await ss.StandardOutput.ReadToEndAsync();
        await ss.WaitForExitAsync();
        _lastListing = listing;
        return listing.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
    }
}
