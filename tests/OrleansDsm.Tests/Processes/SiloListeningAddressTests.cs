using System.Globalization;

namespace OrleansDsm.Tests.Processes;

/// <summary>
/// A silo listens where it is told: its silo and gateway ports on <c>Silo:ListenAddress</c> (all addresses by
/// default), and its dashboard and health endpoint on <c>Silo:HttpAddress</c>. Read from the kernel's socket table.
/// </summary>
public sealed class SiloListeningAddressTests
{
    private const string Loopback = "127.0.0.1";
    private const string Any = "0.0.0.0";

    [Fact]
    public async Task Ports_listen_on_the_configured_addresses()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var database = await postgres.CreateDatabaseAsync("listening");
        string[] cluster = ["--Silo:Storage=PostgreSQL", $"--Silo:ConnectionString={database}"];

        await using var pinned = await SiloProcess.StartAsync([.. cluster, $"--Silo:ListenAddress={Loopback}", $"--Silo:HttpAddress={Loopback}"]);
        // A dashboard open to other machines needs a password; this test is about sockets, so it has none.
        await using var open = await SiloProcess.StartAsync([.. cluster, $"--Silo:HttpAddress={Any}", "--Silo:Dashboard=false"]);

        Assert.Equal([Loopback], ListeningAddresses(pinned.SiloPort));
        Assert.Equal([Loopback], ListeningAddresses(pinned.GatewayPort));
        Assert.Equal([Loopback], ListeningAddresses(pinned.HttpPort));
        Assert.Equal([Any], ListeningAddresses(open.SiloPort));
        Assert.Equal([Any], ListeningAddresses(open.GatewayPort));
        Assert.Equal([Any], ListeningAddresses(open.HttpPort));
        await using var client = await pinned.ConnectAsync();
        Assert.Empty(await client.ListAsync());
    }

    /// <summary>The IPv4 addresses with a socket listening on <paramref name="port"/>, from /proc/net/tcp.</summary>
    private static string[] ListeningAddresses(int port) =>
        File.ReadLines("/proc/net/tcp").Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields[3] == "0A") // LISTEN
            .Select(fields => fields[1].Split(':'))
            .Where(local => int.Parse(local[1], NumberStyles.HexNumber) == port)
            .Select(local => string.Join('.', BitConverter.GetBytes(uint.Parse(local[0], NumberStyles.HexNumber))))
            .Distinct()
            .ToArray();
}
