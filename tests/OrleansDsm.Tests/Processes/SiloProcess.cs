using System.Diagnostics;
using System.Text;
using OrleansDsm.Testing;

namespace OrleansDsm.Tests.Processes;

/// <summary>The real silo program, started as its own process on free ports, killed on dispose.</summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private SiloProcess(Process process, string address, int siloPort, int gatewayPort, int httpPort)
    {
        _process = process;
        Address = address;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
        HttpPort = httpPort;
    }

    /// <summary>The address the silo is reached at: loopback, or its host's address on a test network.</summary>
    public string Address { get; }

    public int SiloPort { get; }

    public int GatewayPort { get; }

    public int HttpPort { get; }

    public string Gateway => $"{Address}:{GatewayPort}";

    /// <summary>A client of this silo through its gateway, with time for a silo that has only just started.</summary>
    public Task<DsmClient> ConnectAsync() =>
        DsmClient.ConnectAsync(new OrleansDsm.Connection.DsmClientOptions { Gateways = [Gateway], ConnectTimeout = TimeSpan.FromSeconds(30) });

    /// <summary>The process's id, for what the tests read of it under <c>/proc</c>.</summary>
    public int ProcessId => _process.Id;

    /// <summary>Whether the process has ended (killed, or stopped by itself).</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Completes when the process ends.</summary>
    public Task Exited => _process.WaitForExitAsync();

    /// <summary>What the silo printed so far (both streams), for assertions and failure messages.</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public static Task<SiloProcess> StartAsync(params string[] extraArguments) =>
        StartOnPortsAsync(LoopbackPorts.Free(), LoopbackPorts.Free(), extraArguments);

    /// <summary>Starts the silo with <paramref name="environment"/> added to its environment (runtime settings such as a GC heap limit).</summary>
    public static Task<SiloProcess> StartWithEnvironmentAsync(IReadOnlyDictionary<string, string> environment, params string[] extraArguments) =>
        StartAsync(null, "127.0.0.1", LoopbackPorts.Free(), LoopbackPorts.Free(), LoopbackPorts.Free(), extraArguments, environment);

    /// <summary>Starts the silo on given ports: a silo restarted on its old address replaces its dead self at once.</summary>
    public static Task<SiloProcess> StartOnPortsAsync(int siloPort, int gatewayPort, params string[] extraArguments) =>
        StartAsync(null, "127.0.0.1", siloPort, gatewayPort, LoopbackPorts.Free(), extraArguments);

    /// <summary>
    /// Starts the silo inside network namespace <paramref name="networkNamespace"/>, as a host of its own at
    /// <paramref name="address"/>, on the default ports (a namespace has its own).
    /// </summary>
    public static Task<SiloProcess> StartInNamespaceAsync(string networkNamespace, string address, params string[] extraArguments) =>
        StartAsync(networkNamespace, address, 11111, 30000, 8080, [$"--Silo:AdvertisedAddress={address}", .. extraArguments]);

    private static async Task<SiloProcess> StartAsync(string? networkNamespace, string address, int siloPort, int gatewayPort, int httpPort, string[] extraArguments,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = BuiltPrograms.Dotnet(BuiltPrograms.SiloDll,
        [
            $"--Silo:SiloPort={siloPort}", $"--Silo:GatewayPort={gatewayPort}", $"--Silo:HttpPort={httpPort}",
            .. extraArguments,
        ]);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        if (networkNamespace is not null)
        {
            // ip netns exec replaces itself with the program, so the process started is the silo itself.
            string[] inner = [start.FileName, .. start.ArgumentList];
            start.FileName = "ip";
            start.ArgumentList.Clear();
            foreach (var argument in (string[])["netns", "exec", networkNamespace, .. inner]) start.ArgumentList.Add(argument);
        }
        var silo = new SiloProcess(Process.Start(start)!, address, siloPort, gatewayPort, httpPort);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        silo._process.OutputDataReceived += (_, line) => silo.Record(line.Data, ready);
        silo._process.ErrorDataReceived += (_, line) => silo.Record(line.Data, ready);
        silo._process.BeginOutputReadLine();
        silo._process.BeginErrorReadLine();

        var exited = silo._process.WaitForExitAsync();
        var first = await Task.WhenAny(ready.Task, exited, Task.Delay(TimeSpan.FromSeconds(60)));
        if (first != ready.Task)
        {
            await silo.DisposeAsync();
            throw new InvalidOperationException($"The silo did not become ready:\n{silo.Output}");
        }
        return silo;
    }

    private void Record(string? line, TaskCompletionSource ready)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
        if (line.StartsWith("OrleansDsm silo ready", StringComparison.Ordinal)) ready.TrySetResult();
    }

    /// <summary>Sends SIGTERM, as systemd does, and returns the exit code once the silo has drained and stopped.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        using (var terminate = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            await terminate.WaitForExitAsync();
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    /// <summary>Kills the silo with SIGKILL: no drain, nothing flushed on the way out.</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
