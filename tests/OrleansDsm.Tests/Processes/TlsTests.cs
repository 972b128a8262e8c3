using OrleansDsm.Connection;
using OrleansDsm.Direct;
using OrleansDsm.Testing;

namespace OrleansDsm.Tests.Processes;

/// <summary>
/// TLS between clients and a real silo process, configured from certificate files: with mutual TLS, only a client
/// holding a certificate the cluster's authority signed connects; with server TLS, a client connects only to a silo
/// whose certificate that authority signed. The direct channel follows the same rules, and takes nothing in the clear.
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
            $"--Silo:TlsCertificatePasswordFile={passwordFile}", $"--Silo:TlsAuthority={cluster.AuthorityFile}", "--Silo:TlsMutual=true",
            "--Dsm:MetricsInterval=00:00:00.200");
        Assert.Contains("tls=mutual", process.Output);

        await AssertRefusedAsync(process, new DsmClientOptions());
        await AssertRefusedAsync(process, new DsmClientOptions { TlsAuthority = cluster.Authority });
        await AssertRefusedAsync(process, new DsmClientOptions { TlsAuthority = cluster.Authority, TlsCertificate = stranger.Issue("intruder", server: false) });

        DsmClientOptions Admitted() => new()
        {
            Gateways = [process.Gateway],
            TlsAuthority = cluster.Authority,
            TlsCertificate = cluster.Issue("client", server: false),
            ConnectTimeout = TimeSpan.FromSeconds(30),
            PrefetchPages = 0,
        };
        await using var client = await DsmClient.ConnectAsync(Admitted());
        var array = await client.AllocateAsync<long>(UniqueNames.For("tls"), 2 * 512);
        await array.SetAsync(3, 33);
        Assert.Equal(33, await array.GetAsync(3));

        // The channel is TLS too, with the same certificates: fills, sets and revocations go over it.
        await using var reader = await DsmClient.ConnectAsync(Admitted());
        await Direct.ConnectedChannels.OfAsync(client);
        await Direct.ConnectedChannels.OfAsync(reader);
        var cached = await reader.OpenAsync<long>(array.Name);
        Assert.Equal(33, await cached.GetAsync(3)); // the first fill on a silo is a call, which names the reader's cache there
        Assert.Equal(0, await cached.GetAsync(512)); // this one takes the channel
        var (served, revocations) = (client.Direct!.Served, reader.Direct!.RevocationsReceived);
        await array.SetAsync(3, 34);
        Assert.True(client.Direct.Served > served, "the set went over the channel");
        Assert.True(reader.Direct.RevocationsReceived > revocations, "the revocation came over the reader's channel");
        Assert.Equal(34, await cached.GetAsync(3));
        Assert.True(reader.Direct.Served >= 1, "a fill went over the channel");

        // A connection the silo's channel must not take: without a certificate, with one another authority signed, in the clear.
        var endpoint = (await client.Grains.GetGrain<OrleansDsm.Direct.IDirectEndpointGrain>(0).GetState())!;
        Assert.True(endpoint.Tls);
        Assert.Contains($"direct channel=port {endpoint.Port} (tls)", process.Output);
        await AssertChannelRefusesAsync(endpoint, DirectTls.ForClient(null, cluster.Authority));
        await AssertChannelRefusesAsync(endpoint, DirectTls.ForClient(stranger.Issue("intruder", server: false), cluster.Authority));
        await AssertChannelRefusesAsync(endpoint with { Tls = false }, null);
        Assert.False(process.HasExited);

        // The silo counts what its channel served and the three connections it refused, for its operators to see.
        var metrics = client.Grains.GetGrain<OrleansDsm.Metrics.IMetricsGrain>(0);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        OrleansDsm.Metrics.MetricsSample counted;
        while ((counted = (await metrics.GetState()).Totals).DirectConnectionsRefused < 3)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(20), $"the silo reported {counted.DirectConnectionsRefused} refused connections");
            await Task.Delay(100);
        }
        Assert.Equal(3, counted.DirectConnectionsRefused);
        Assert.Equal(client.Direct.Served + reader.Direct.Served, counted.DirectRequestsServed);
    }

    [Fact]
    public async Task With_server_tls_a_client_connects_only_to_a_silo_its_authority_signed()
    {
        using var cluster = new TestCertificates("dsm-test-authority");
        using var stranger = new TestCertificates("some-other-authority");
        var silo = cluster.WritePkcs12(cluster.Issue("silo", server: true), "silo.pfx");
        var directPort = LoopbackPorts.Free();
        await using var process = await SiloProcess.StartAsync("--Silo:Dashboard=false", $"--Silo:TlsCertificate={silo}", $"--Silo:TlsAuthority={cluster.AuthorityFile}",
            $"--Dsm:DirectPort={directPort}");
        Assert.Contains("tls=server", process.Output);
        Assert.Contains($"direct channel=port {directPort} (tls)", process.Output);

        await AssertRefusedAsync(process, new DsmClientOptions());
        await AssertRefusedAsync(process, new DsmClientOptions { TlsAuthority = stranger.Authority });

        await using var client = await DsmClient.ConnectAsync(new DsmClientOptions
        {
            Gateways = [process.Gateway],
            TlsAuthority = cluster.Authority,
            ConnectTimeout = TimeSpan.FromSeconds(30),
        });
        Assert.Empty(await client.ListAsync());
        // The direct channel is TLS too, and takes a client without a certificate, as the gateway does.
        await Direct.ConnectedChannels.OfAsync(client);
        var array = await client.AllocateAsync<long>(UniqueNames.For("tls-server"), 10, OrleansDsm.Regions.Consistency.Uncached);
        var served = client.Direct!.Served;
        await array.SetAsync(3, 33);
        Assert.Equal(33, await array.GetAsync(3));
        Assert.Equal(served + 2, client.Direct.Served);

        // A silo another authority signed is not one to talk to, over the channel either; and the channel takes nothing in the clear.
        var endpoint = (await client.Grains.GetGrain<OrleansDsm.Direct.IDirectEndpointGrain>(0).GetState())!;
        await Assert.ThrowsAnyAsync<System.Security.Authentication.AuthenticationException>(() =>
            DirectConnection.OpenAsync(endpoint, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10), tls: DirectTls.ForClient(null, stranger.Authority)));
        await AssertChannelRefusesAsync(endpoint with { Tls = false }, null);
        Assert.False(process.HasExited);

        // Over an Orleans client of the app's own, a client whose channel admits only another authority's silos: its
        // requests go as Orleans calls, and its meter says why its channel never connected.
        await using var own = await RawOrleansClient.ConnectAsync(process.Gateway, configure: orleans => orleans.UseTls(tls =>
            tls.RemoteCertificateValidation = (certificate, _, _) => OrleansDsm.Security.CertificateAuthority.Vouches(cluster.Authority, certificate)));
        await using var misled = new DsmClient(own.Grains, new DsmClientOptions { TlsAuthority = stranger.Authority });
        using var meter = new Direct.ChannelMeter(misled.Direct!.Session);
        var other = await misled.OpenAsync<long>(array.Name);
        await other.SetAsync(4, 44); // asks for a connection (the client may have asked already)
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (meter.Read(reason: "tls")["dsm.direct.connect_failures"] == 0)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), "the failed TLS handshake of the channel was never counted");
            await other.SetAsync(4, 44); // each asks again, at most one attempt in 5 s
            await Task.Delay(100);
        }
        Assert.Equal(44, await array.GetAsync(4));
        Assert.Equal(0, meter.Read()["dsm.direct.connected"]);
        Assert.Equal(0, meter.Read()["dsm.direct.requests_served"]);
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
        Assert.EndsWith($"(its password is taken from DSM_TLS_PASSWORD).", wrongPassword.Stderr);
        var noPassword = await DsmAsync(null, "ls", "--gateway", process.Gateway, "--tls-authority", cluster.AuthorityFile, "--tls-certificate", client);
        Assert.Equal((2, true), (noPassword.ExitCode, noPassword.Stderr.EndsWith("(DSM_TLS_PASSWORD, which holds its password, is not set).", StringComparison.Ordinal)));
        var notACertificate = await DsmAsync(null, "ls", "--gateway", process.Gateway, "--tls-authority", bogus);
        Assert.Equal(2, notACertificate.ExitCode);
        Assert.StartsWith($"dsm: --tls-authority '{bogus}': ", notACertificate.Stderr);

        // The same files named once in the environment, as an operator's profile would.
        var environment = new Dictionary<string, string>
        {
            ["DSM_GATEWAY"] = process.Gateway, ["DSM_TLS_AUTHORITY"] = cluster.AuthorityFile, ["DSM_TLS_CERTIFICATE"] = client,
        };
        var fromEnvironment = await DsmAsync("operator-secret", environment, "ls");
        Assert.True(fromEnvironment.ExitCode == 0, fromEnvironment.Stderr);
        Assert.Contains(name + " ", fromEnvironment.Stdout);
        environment["DSM_TLS_AUTHORITY"] = bogus;
        var bogusFromEnvironment = await DsmAsync("operator-secret", environment, "ls");
        Assert.Equal(2, bogusFromEnvironment.ExitCode);
        Assert.StartsWith($"dsm: DSM_TLS_AUTHORITY '{bogus}': ", bogusFromEnvironment.Stderr);
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
        Assert.StartsWith($"orleans-dsm silo: TLS: Silo:TlsCertificate '{bogus}' cannot be read (a PKCS#12 file with the silo's key; no Silo:TlsCertificatePasswordFile gives it a password): ", line);
    }

    /// <summary>Runs the real <c>dsm</c> tool with the certificate password, if any, in its environment.</summary>
    private static Task<ProcessResult> DsmAsync(string? password, params string[] arguments) =>
        DsmAsync(password, new Dictionary<string, string>(), arguments);

    private static Task<ProcessResult> DsmAsync(string? password, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var start = BuiltPrograms.Dotnet(BuiltPrograms.CliDll, arguments);
        foreach (var (variable, value) in environment) start.Environment[variable] = value;
        if (password is not null) start.Environment["DSM_TLS_PASSWORD"] = password;
        else start.Environment.Remove("DSM_TLS_PASSWORD");
        return BuiltPrograms.RunAsync(start, TimeSpan.FromSeconds(60));
    }

    /// <summary>
    /// The silo's channel refuses a connection made with <paramref name="tls"/> (in the clear when null): the handshake
    /// fails, or (TLS 1.3 lets a client finish its side first) the silo closes the connection without answering.
    /// </summary>
    private static async Task AssertChannelRefusesAsync(DirectEndpoint endpoint, DirectTls? tls)
    {
        DirectConnection connection;
        try
        {
            connection = await DirectConnection.OpenAsync(endpoint, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10), tls: tls);
        }
        catch (Exception error) when (error is System.Security.Authentication.AuthenticationException or IOException or System.Net.Sockets.SocketException)
        {
            return;
        }
        using (connection)
        {
            var reply = await connection.SendAsync(new DirectRequest(0, DirectOperation.Get, 8, 1, 0, 0, 0, 0)).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(DirectStatus.Unknown, reply.Status);
        }
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
