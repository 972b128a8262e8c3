using OrleansDsm.Testing;

namespace OrleansDsm.Tests.Processes;

/// <summary>The real silo refuses bad configuration at start with one clear line, before its host starts.</summary>
public sealed class SiloConfigurationTests
{
    [Theory]
    [InlineData("--Dsm:PageSize=1000", "Dsm:PageSize")]
    [InlineData("--Dsm:ServingLease=00:00:00.010", "Dsm:ServingLease")]
    [InlineData("--Dsm:WriteBehind=-00:00:01", "Dsm:WriteBehind")]
    [InlineData("--Dsm:MemoryRefusalPercent=5", "Dsm:MemoryRefusalPercent")]
    [InlineData("--Dsm:AdminToken=short", "Dsm:AdminToken")]
    [InlineData("--Dsm:PagePlacement=Nearest", "Dsm:PagePlacement 'Nearest'")]
    [InlineData("--Dsm:DirectPort=-2", "Dsm:DirectPort")]
    [InlineData("--Dsm:DirectKeepAlive=00:00:00.500", "Dsm:DirectKeepAlive must be zero (off) or from 1 s to 2 hours")]
    [InlineData("--Silo:TlsMutual=true", "Silo:TlsMutual")]
    [InlineData("--Silo:HttpAddress=0.0.0.0", "Silo:DashboardPassword")]
    [InlineData("--Silo:DashboardPasswordFile=/nonexistent/password", "Silo:DashboardPasswordFile")]
    [InlineData("--Silo:TlsCertificate=/nonexistent/silo.pfx", "Silo:TlsCertificate")]
    [InlineData("--Silo:GatewayPort=0", "Silo:GatewayPort")]
    [InlineData("--Silo:Storage=Floppy", "Floppy")]
    [InlineData("--Silo:Rebalance=true", "Silo:Rebalance")]
    [InlineData("--Silo:PageStore=Tape", "Silo:PageStore 'Tape'")]
    [InlineData("--Silo:MaxMessageBytes=1000000", "Silo:MaxMessageBytes")]
    [InlineData("--Silo:Directory=Strongest", "Silo:Directory 'Strongest'")]
    [InlineData("--Silo:SiloPort=eleven", "'eleven' at 'Silo:SiloPort'")]
    [InlineData("--Dsm:CacheLease=abc", "'abc' at 'Dsm:CacheLease'")]
    [InlineData("--Silo:Membership:ProbeTimeout=abc", "'abc' at 'Silo:Membership:ProbeTimeout'")]
    [InlineData("--Dsm:CacheLease=5", "Dsm:CacheLease must be between 50 ms and 5 minutes; it is 5.00:00:00")]
    [InlineData("--Silo:HttpAddress=nowhere", "Silo:HttpAddress")]
    [InlineData("--Silo:Storage=PostgreSQL --Silo:ConnectionString=Host=127.0.0.1 --Silo:ListenAddress=anywhere", "Silo:ListenAddress")]
    [InlineData("--Silo:Storage=PostgreSQL", "Silo:ConnectionString")]
    [InlineData("--Silo:Storage=PostgreSQL --Silo:ConnectionString=Host=127.0.0.1;Password=hunter2", "PGPASSWORD")]
    [InlineData("--Silo:Storage=PostgreSQL --Silo:ConnectionString=Host=127.0.0.1 --Silo:AdvertisedAddress=somewhere", "Silo:AdvertisedAddress")]
    [InlineData("--Silo:Storage=PostgreSQL --Silo:ConnectionString=Host=127.0.0.1;Port=1;Timeout=2", "PostgreSQL schema")]
    public async Task A_bad_setting_stops_the_silo_with_one_line_naming_it(string arguments, string named)
    {
        // Started outside its folder, the silo reads no appsettings.json, whose logging settings would hide a failed start.
        // Free ports first, so that no other silo's ports are in the way and a case's own port settings come later and win.
        string[] ports = [$"--Silo:SiloPort={LoopbackPorts.Free()}", $"--Silo:GatewayPort={LoopbackPorts.Free()}", $"--Silo:HttpPort={LoopbackPorts.Free()}"];
        var result = await BuiltPrograms.RunAsync(BuiltPrograms.Dotnet(BuiltPrograms.SiloDll, [.. ports, .. arguments.Split(' ')], workingDirectory: Path.GetTempPath()),
            TimeSpan.FromSeconds(60));

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Stderr.Split('\n'));
        Assert.StartsWith("orleans-dsm silo: ", line);
        Assert.Contains(named, line);
        // Refused before the host starts: no failed start logged with its stack trace.
        Assert.DoesNotContain("   at ", result.Stdout);
    }

    [Theory]
    [InlineData("Silo:SiloPort")]
    [InlineData("Silo:GatewayPort")]
    [InlineData("Silo:HttpPort")]
    public async Task A_port_another_program_listens_on_stops_the_silo_with_one_line_naming_the_port_and_its_setting(string setting)
    {
        // As a second silo started on one machine with the same settings finds its ports.
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        holder.Start();
        var taken = ((System.Net.IPEndPoint)holder.LocalEndpoint).Port;
        var ports = new Dictionary<string, int> { ["Silo:SiloPort"] = LoopbackPorts.Free(), ["Silo:GatewayPort"] = LoopbackPorts.Free(), ["Silo:HttpPort"] = LoopbackPorts.Free() };
        ports[setting] = taken;

        var result = await BuiltPrograms.RunAsync(BuiltPrograms.Dotnet(BuiltPrograms.SiloDll, [.. ports.Select(port => $"--{port.Key}={port.Value}")],
            workingDirectory: Path.GetTempPath()), TimeSpan.FromSeconds(60));

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"orleans-dsm silo: cannot listen: {setting} {taken} on 127.0.0.1 is in use by another program. If another silo runs on this machine, "
            + $"give this one ports of its own (--{setting}).", line);
        Assert.DoesNotContain("   at ", result.Stdout);
    }

    [Fact]
    public async Task A_listen_address_that_is_not_this_machines_stops_the_silo_with_one_line_naming_it()
    {
        // 203.0.113.0/24 is for documentation (RFC 5737), an address no machine here holds; binding to it sends nothing.
        var result = await BuiltPrograms.RunAsync(BuiltPrograms.Dotnet(BuiltPrograms.SiloDll,
            ["--Silo:Storage=PostgreSQL", "--Silo:ConnectionString=Host=127.0.0.1", "--Silo:ListenAddress=203.0.113.77", $"--Silo:HttpPort={LoopbackPorts.Free()}"],
            workingDirectory: Path.GetTempPath()), TimeSpan.FromSeconds(60));

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("orleans-dsm silo: cannot listen: Silo:ListenAddress 203.0.113.77 is not an address of this machine.", Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }

    [Fact]
    public async Task A_direct_port_another_program_holds_stops_the_silo_with_one_line_naming_the_setting()
    {
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Any, 0);
        holder.Start();
        var taken = ((System.Net.IPEndPoint)holder.LocalEndpoint).Port;

        var result = await BuiltPrograms.RunAsync(BuiltPrograms.Dotnet(BuiltPrograms.SiloDll,
            ["--Silo:Dashboard=false", $"--Silo:SiloPort={LoopbackPorts.Free()}", $"--Silo:GatewayPort={LoopbackPorts.Free()}", $"--Silo:HttpPort={LoopbackPorts.Free()}",
                $"--Dsm:DirectPort={taken}"]), TimeSpan.FromSeconds(60));

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"Dsm:DirectPort {taken}", line);
    }

    [Fact]
    public async Task Memory_storage_writes_behind_unless_the_setting_says_otherwise()
    {
        await using var silo = await SiloProcess.StartAsync("--Dsm:WriteBehind=00:00:00", "--Silo:Dashboard=false");

        Assert.Contains("storage=memory (one silo only, all data lost when it stops; write-through)", silo.Output);
    }

    [Fact]
    public async Task A_silo_stopped_with_SIGTERM_says_so_in_one_line_naming_what_became_of_its_data()
    {
        await using var silo = await SiloProcess.StartAsync("--Silo:Dashboard=false");

        Assert.Equal(0, await silo.StopAsync(TimeSpan.FromSeconds(60)));

        var last = silo.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.Matches(@"^OrleansDsm silo stopped after \d+\.\d s: storage was memory, so its regions and pages are gone$", last);
    }
}
