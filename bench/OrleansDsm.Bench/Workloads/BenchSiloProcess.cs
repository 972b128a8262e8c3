using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Hosting;
using OrleansDsm.Bench.Hosting;
using OrleansDsm.Hosting;
using OrleansDsm.Testing;

namespace OrleansDsm.Bench.Workloads;

/// <summary>
/// A silo process on free ports: the product's (Silo/bin/Release) on PostgreSQL for workloads that kill silos, or on
/// memory storage for workloads that need a cluster set up unlike the bench silo's (another page size); or a bench
/// silo (this program, hosting the Jacobi worker grains) in a cluster of two.
/// </summary>
public sealed class BenchSiloProcess : IAsyncDisposable
{
    private const string SiloDll = "Silo/bin/Release/net10.0/OrleansDsm.Silo.dll";
    private readonly Process _process;

    private BenchSiloProcess(Process process, int siloPort, int gatewayPort)
    {
        _process = process;
        (SiloPort, Gateway) = (siloPort, $"127.0.0.1:{gatewayPort}");
    }

    public string Gateway { get; }

    public int SiloPort { get; }

    public static Task<BenchSiloProcess> StartAsync(string database, string cluster, TimeSpan probeTimeout, int missedProbes, TimeSpan cacheLease) =>
        StartAsync([
            "--Silo:Storage=PostgreSQL", $"--Silo:ConnectionString={database}", $"--Silo:ClusterId={cluster}", $"--Silo:ServiceId={cluster}",
            $"--Silo:Membership:ProbeTimeout={probeTimeout}", $"--Silo:Membership:NumMissedProbesLimit={missedProbes}", $"--Dsm:CacheLease={cacheLease}"]);

    /// <summary>A silo alone in its cluster (<paramref name="cluster"/>), on memory storage with the product's defaults but for <paramref name="pageSize"/>.</summary>
    public static Task<BenchSiloProcess> StartMemoryAsync(string cluster, int pageSize) =>
        StartAsync(["--Silo:Storage=Memory", $"--Silo:ClusterId={cluster}", $"--Silo:ServiceId={cluster}", $"--Dsm:PageSize={pageSize}"]);

    /// <summary>
    /// A silo alone in its cluster (<paramref name="cluster"/>), on memory storage with the product's defaults, with TLS:
    /// <paramref name="certificate"/> (PKCS#12, no password) as its own, admitting peers <paramref name="authority"/> (PEM) signed.
    /// </summary>
    public static Task<BenchSiloProcess> StartTlsAsync(string cluster, string certificate, string authority) =>
        StartAsync(["--Silo:Storage=Memory", $"--Silo:ClusterId={cluster}", $"--Silo:ServiceId={cluster}", $"--Silo:TlsCertificate={certificate}",
            $"--Silo:TlsAuthority={authority}"]);

    /// <summary>
    /// A bench silo of <paramref name="cluster"/>, joining the one whose silo port is <paramref name="primarySiloPort"/>
    /// (null: the first), with activations moved as <paramref name="moves"/> says and pages placed as
    /// <paramref name="pagePlacement"/> (<c>Dsm:PagePlacement</c>) says.
    /// </summary>
    public static Task<BenchSiloProcess> StartBenchAsync(string cluster, int? primarySiloPort, ActivationMoves moves, string pagePlacement = "Balanced")
    {
        var (siloPort, gatewayPort) = (LoopbackPorts.Free(), LoopbackPorts.Free());
        // Server GC, as bench/run.sh gives the bench silo (DATAS's target is in the bench's runtime configuration).
        return StartAsync([typeof(BenchSiloProcess).Assembly.Location, "silo", $"{siloPort}", $"{gatewayPort}", cluster, primarySiloPort?.ToString() ?? "-", $"{moves}", pagePlacement],
            siloPort, gatewayPort, "bench silo ready", serverGc: true);
    }

    private static Task<BenchSiloProcess> StartAsync(string[] settings)
    {
        var (siloPort, gatewayPort) = (LoopbackPorts.Free(), LoopbackPorts.Free());
        return StartAsync([Path.GetFullPath(SiloDll), .. settings, "--Silo:Dashboard=false", $"--Silo:SiloPort={siloPort}", $"--Silo:GatewayPort={gatewayPort}",
            $"--Silo:HttpPort={LoopbackPorts.Free()}", "--Logging:LogLevel:Default=Warning"], siloPort, gatewayPort, "OrleansDsm silo ready", serverGc: false);
    }

    private static async Task<BenchSiloProcess> StartAsync(string[] arguments, int siloPort, int gatewayPort, string readyLine, bool serverGc)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        if (serverGc) start.Environment["DOTNET_gcServer"] = "1";
        var silo = new BenchSiloProcess(Process.Start(start)!, siloPort, gatewayPort);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        silo._process.OutputDataReceived += (_, line) => { if (line.Data?.StartsWith(readyLine, StringComparison.Ordinal) == true) ready.TrySetResult(); };
        silo._process.ErrorDataReceived += (_, _) => { };
        silo._process.BeginOutputReadLine();
        silo._process.BeginErrorReadLine();
        if (await Task.WhenAny(ready.Task, silo._process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(60))) != ready.Task)
        {
            await silo.DisposeAsync();
            throw new InvalidOperationException($"bench: a silo ({string.Join(' ', arguments)}) did not start");
        }
        return silo;
    }

    /// <summary>A started Orleans client of <paramref name="cluster"/> that goes through this silo's gateway alone.</summary>
    public async Task<IHost> ConnectAsync(string cluster)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client =>
        {
            client.UseStaticClustering(IPEndPoint.Parse(Gateway)).UseLowLatencySockets();
            client.Configure<Orleans.Configuration.ClusterOptions>(options => (options.ClusterId, options.ServiceId) = (cluster, cluster));
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    /// <summary>SIGKILL: no drain.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
