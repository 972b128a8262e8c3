using OrleansDsm.Connection;
using OrleansDsm.Testing;

namespace OrleansDsm.Tests.Processes;

/// <summary>
/// TLS between clients and a real silo process, configured from certificate files: with mutual TLS, only a client
/// holding a certificate the cluster's authority signed connects; with server TLS, a client connects only to a silo
/// whose certificate that authority signed.
/// </summary>
public sealed class TlsTests
{
    private static readonly TimeSpan Refusal = TimeSpan.FromSeconds(4);

    [Fact]
    public async Task With_mutual_tls_a_client_without_the_right_certificate_cannot_connect_and_one_with_it_can()
    {
        using var cluster = new TestCertificates("dsm-test-authority");
        using var stranger = new TestCertificates("some-other-authority");
        var silo = cluster.WritePkcs12(cluster.Issue("silo", server: true), "silo.pfx", "silo-secret");
        var passwordFile = Path.Combine(cluster.Directory, "silo.password");
        await File.WriteAllTextAsync(passwordFile, "silo-secret\n");
        await using var process = await SiloProcess.StartAsync("--Silo:Dashboard=false", $"--Silo:TlsCertificate={silo}",
            $"--Silo:TlsCertificatePasswordFile={passwordFile}", $"--Silo:TlsAuthority={cluster.AuthorityFile}", "--Silo:TlsMutual=true");
        Assert.Contains("tls=mutual", process.Output);

        await AssertRefusedAsync(process, new DsmClientOptions());
        await AssertRefusedAsync(process, new DsmClientOptions { TlsAuthority = cluster.Authority });
        await AssertRefusedAsync(process, new DsmClientOptions { TlsAuthority = cluster.Authority, TlsCertificate = stranger.Issue("intruder", server: false) });

        await using var client = await DsmClient.ConnectAsync(new DsmClientOptions
        {
            Gateways = [process.Gateway],
            TlsAuthority = cluster.Authority,
            TlsCertificate = cluster.Issue("client", server: false),
            ConnectTimeout = TimeSpan.FromSeconds(30),
        });
        var array = await client.AllocateAsync<long>(UniqueNames.For("tls"), 10);
        await array.SetAsync(3, 33);
        Assert.Equal(33, await array.GetAsync(3));
    }

    [Fact]
    public async Task With_server_tls_a_client_connects_only_to_a_silo_its_authority_signed()
    {
        using var cluster = new TestCertificates("dsm-test-authority");
        using var stranger = new TestCertificates("some-other-authority");
        var silo = cluster.WritePkcs12(cluster.Issue("silo", server: true), "silo.pfx");
        await using var process = await SiloProcess.StartAsync("--Silo:Dashboard=false", $"--Silo:TlsCertificate={silo}", $"--Silo:TlsAuthority={cluster.AuthorityFile}");
        Assert.Contains("tls=server", process.Output);
        Assert.Contains("direct channel=off", process.Output);

        await AssertRefusedAsync(process, new DsmClientOptions());
        await AssertRefusedAsync(process, new DsmClientOptions { TlsAuthority = stranger.Authority });

        await using var client = await DsmClient.ConnectAsync(new DsmClientOptions
        {
            Gateways = [process.Gateway],
            TlsAuthority = cluster.Authority,
            ConnectTimeout = TimeSpan.FromSeconds(30),
        });
        Assert.Empty(await client.ListAsync());
        // The direct channel does not encrypt: neither the client nor the silo offers it.
        Assert.Null(client.Direct);
        Assert.Null(await client.Grains.GetGrain<OrleansDsm.Direct.IDirectEndpointGrain>(0).GetState());
    }

    [Fact]
    public async Task A_silo_with_tls_refuses_to_start_with_a_direct_port_and_says_why()
    {
        using var cluster = new TestCertificates("dsm-test-authority");
        var silo = cluster.WritePkcs12(cluster.Issue("silo", server: true), "silo.pfx");

        var result = await BuiltPrograms.RunAsync(BuiltPrograms.Dotnet(BuiltPrograms.SiloDll,
            ["--Silo:Dashboard=false", $"--Silo:TlsCertificate={silo}", $"--Silo:SiloPort={LoopbackPorts.Free()}", $"--Silo:GatewayPort={LoopbackPorts.Free()}",
                $"--Silo:HttpPort={LoopbackPorts.Free()}", "--Dsm:DirectPort=0"]), TimeSpan.FromSeconds(60));

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("Dsm:DirectPort 0 needs a silo without TLS", line);
    }

    [Fact]
    public async Task The_dsm_tool_reaches_a_mutual_tls_silo_with_its_certificate_files_and_names_a_bad_one()
    {
        using var cluster = new TestCertificates("dsm-test-authority");
        var silo = cluster.WritePkcs12(cluster.Issue("silo", server: true), "silo.pfx");
        var client = cluster.WritePkcs12(cluster.Issue("operator", server: false), "operator.pfx", "operator-secret");
        var bogus = Path.Combine(cluster.Directory, "bogus.pfx");
        await File.WriteAllTextAsync(bogus, "not a certificate");
        await using var process = await SiloProcess.StartAsync("--Silo:Dashboard=false", $"--Silo:TlsCertificate={silo}",
            $"--Silo:TlsAuthority={cluster.AuthorityFile}", "--Silo:TlsMutual=true");
        var name = UniqueNames.For("tls-cli");

        var alloc = await DsmAsync("operator-secret", "alloc", name, "--type", "int32", "--length", "5",
            "--gateway", process.Gateway, "--tls-authority", cluster.AuthorityFile, "--tls-certificate", client);
        Assert.True(alloc.ExitCode == 0, alloc.Stderr);
        var listing = await DsmAsync("operator-secret", "ls", "--gateway", process.Gateway, "--tls-authority", cluster.AuthorityFile, "--tls-certificate", client);
        Assert.Contains(name + " ", listing.Stdout);

        var withoutCertificate = await DsmAsync(null, "ls", "--gateway", process.Gateway, "--tls-authority", cluster.AuthorityFile);
        Assert.Equal(3, withoutCertificate.ExitCode);
        var wrongPassword = await DsmAsync("guess", "ls", "--gateway", process.Gateway, "--tls-authority", cluster.AuthorityFile, "--tls-certificate", client);
        Assert.Equal(2, wrongPassword.ExitCode);
        Assert.StartsWith($"dsm: --tls-certificate '{client}': ", wrongPassword.Stderr);
        var notACertificate = await DsmAsync(null, "ls", "--gateway", process.Gateway, "--tls-authority", bogus);
        Assert.Equal(2, notACertificate.ExitCode);
        Assert.StartsWith($"dsm: --tls-authority '{bogus}': ", notACertificate.Stderr);
        Assert.False(process.HasExited);
    }

    [Fact]
    public async Task Silos_with_the_clusters_certificates_form_one_cluster_over_mutual_tls_and_a_silo_without_one_cannot_join()
    {
        using var cluster = new TestCertificates("dsm-test-authority");
        using var stranger = new TestCertificates("some-other-authority");
        await using var postgres = await PostgresServer.StartAsync();
        var database = await postgres.CreateDatabaseAsync("tls-cluster");
        string[] Arguments(string certificate, string authority) =>
        [
            "--Silo:Storage=PostgreSQL", $"--Silo:ConnectionString={database}", "--Silo:Dashboard=false",
            $"--Silo:TlsCertificate={certificate}", $"--Silo:TlsAuthority={authority}", "--Silo:TlsMutual=true",
        ];
        var first = await SiloProcess.StartAsync(Arguments(cluster.WritePkcs12(cluster.Issue("silo-a", server: true), "a.pfx"), cluster.AuthorityFile));
        await using var firstSilo = first;
        await using var second = await SiloProcess.StartAsync(Arguments(cluster.WritePkcs12(cluster.Issue("silo-b", server: true), "b.pfx"), cluster.AuthorityFile));
        Assert.Equal(2, await ActiveSilosAsync(database));

        // Pages spread over both silos, so writes and reads cross the silo-to-silo connection.
        await using var client = await DsmClient.ConnectAsync(new DsmClientOptions
        {
            Gateways = [first.Gateway], TlsAuthority = cluster.Authority, TlsCertificate = cluster.Issue("client", server: false),
            ConnectTimeout = TimeSpan.FromSeconds(30), CacheBytes = 0,
        });
        var array = await client.AllocateAsync<long>(UniqueNames.For("tls-cluster"), 64 * 512);
        var values = Enumerable.Range(0, 64 * 512).Select(i => (long)i * 3).ToArray();
        await array.WriteAsync(0, values);
        var read = new long[values.Length];
        await array.ReadAsync(0, read);
        Assert.Equal(values, read);

        // A silo whose certificate another authority signed is refused by both: it never becomes active.
        var intruderCertificate = stranger.WritePkcs12(stranger.Issue("intruder", server: true), "intruder.pfx");
        var refusal = await IntruderRefusalAsync(Arguments(intruderCertificate, stranger.AuthorityFile));
        Assert.Contains("certificate was rejected", refusal);
        Assert.Equal(2, await ActiveSilosAsync(database));
        Assert.False(first.HasExited || second.HasExited);
    }

    /// <summary>
    /// Starts a silo that should not get in, and returns the line where the TLS handshake with a cluster member failed
    /// (then stops it): it keeps trying to join, so waiting for it to give up would take minutes.
    /// </summary>
    private static async Task<string> IntruderRefusalAsync(string[] arguments)
    {
        var start = BuiltPrograms.Dotnet(BuiltPrograms.SiloDll, [.. arguments, $"--Silo:SiloPort={LoopbackPorts.Free()}",
            $"--Silo:GatewayPort={LoopbackPorts.Free()}", $"--Silo:HttpPort={LoopbackPorts.Free()}"]);
        using var intruder = System.Diagnostics.Process.Start(start)!;
        var refused = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var ready = false;
        void Watch(string? line)
        {
            if (line is null) return;
            if (line.StartsWith("OrleansDsm silo ready", StringComparison.Ordinal)) ready = true;
            if (line.Contains("certificate was rejected", StringComparison.Ordinal)) refused.TrySetResult(line.Trim());
        }
        intruder.OutputDataReceived += (_, line) => Watch(line.Data);
        intruder.ErrorDataReceived += (_, line) => Watch(line.Data);
        intruder.BeginOutputReadLine();
        intruder.BeginErrorReadLine();
        try
        {
            var line = await refused.Task.WaitAsync(TimeSpan.FromSeconds(45));
            Assert.False(ready, "the intruding silo became ready");
            return line;
        }
        finally
        {
            intruder.Kill(entireProcessTree: true);
            await intruder.WaitForExitAsync();
        }
    }

    private static async Task<long> ActiveSilosAsync(string database)
    {
        await using var connection = new Npgsql.NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var count = new Npgsql.NpgsqlCommand("SELECT count(*) FROM dsm_membership WHERE status = 3", connection);
        return (long)(await count.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task A_certificate_file_that_is_not_one_stops_the_silo_with_one_line()
    {
        using var cluster = new TestCertificates("dsm-test-authority");
        var bogus = Path.Combine(cluster.Directory, "bogus.pfx");
        await File.WriteAllTextAsync(bogus, "not a certificate");

        var result = await BuiltPrograms.RunAsync(BuiltPrograms.Dotnet(BuiltPrograms.SiloDll,
            [$"--Silo:TlsCertificate={bogus}", $"--Silo:HttpPort={LoopbackPorts.Free()}"]), TimeSpan.FromSeconds(60));

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Stderr.Split('\n'));
        Assert.StartsWith("orleans-dsm silo: TLS certificate: ", line);
    }

    /// <summary>Runs the real <c>dsm</c> tool with the certificate password, if any, in its environment.</summary>
    private static Task<ProcessResult> DsmAsync(string? password, params string[] arguments)
    {
        var start = BuiltPrograms.Dotnet(BuiltPrograms.CliDll, arguments);
        if (password is not null) start.Environment["DSM_TLS_PASSWORD"] = password;
        return BuiltPrograms.RunAsync(start, TimeSpan.FromSeconds(60));
    }

    /// <summary>Connecting with <paramref name="options"/> fails as an unreachable cluster, and the silo serves on.</summary>
    private static async Task AssertRefusedAsync(SiloProcess silo, DsmClientOptions options)
    {
        options.Gateways = [silo.Gateway];
        options.ConnectTimeout = Refusal;
        await Assert.ThrowsAsync<ClusterUnreachableException>(async () => await (await DsmClient.ConnectAsync(options)).DisposeAsync());
        Assert.False(silo.HasExited);
    }
}
