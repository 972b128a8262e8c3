using System.Diagnostics;

namespace OrleansDsm.Tests.MultiHost;

/// <summary>
/// A private network of hosts on this machine: a bridge holding 10.200.0.254/24 in the test's own namespace, and one
/// network namespace per host joined to it by a veth pair. Cutting a host takes its link down, as a pulled cable
/// would. Everything is named with a random tag and removed on dispose. Needs root, as CI runs.
/// </summary>
public sealed class NetworkLab : IAsyncDisposable
{
    private readonly string _tag = Guid.NewGuid().ToString("N")[..4];
    private readonly List<LabHost> _hosts = [];

    private string Bridge => $"dsmbr{_tag}";

    public static async Task<NetworkLab> CreateAsync()
    {
        if (Environment.UserName != "root")
            throw new InvalidOperationException("The multi-host tests build network namespaces and need root (CI runs as root).");
        var lab = new NetworkLab();
        await RunAsync("ip", "link", "add", lab.Bridge, "type", "bridge");
        await RunAsync("ip", "addr", "add", "10.200.0.254/24", "dev", lab.Bridge);
        await RunAsync("ip", "link", "set", lab.Bridge, "up");
        return lab;
    }

    /// <summary>Adds a host at 10.200.0.<paramref name="lastOctet"/>, with loopback up.</summary>
    public async Task<LabHost> AddHostAsync(string name, int lastOctet)
    {
        var host = new LabHost($"dsm{_tag}{name}", $"v{_tag}{name}", $"10.200.0.{lastOctet}");
        await RunAsync("ip", "netns", "add", host.Namespace);
        _hosts.Add(host);
        await RunAsync("ip", "link", "add", host.Veth, "type", "veth", "peer", "name", "eth0", "netns", host.Namespace);
        await RunAsync("ip", "link", "set", host.Veth, "master", Bridge, "up");
        await RunAsync("ip", "-n", host.Namespace, "addr", "add", $"{host.Address}/24", "dev", "eth0");
        await RunAsync("ip", "-n", host.Namespace, "link", "set", "eth0", "up");
        await RunAsync("ip", "-n", host.Namespace, "link", "set", "lo", "up");
        return host;
    }

    /// <summary>Takes <paramref name="host"/>'s link down: nothing reaches it and it reaches nothing.</summary>
    public Task CutAsync(LabHost host) => RunAsync("ip", "link", "set", host.Veth, "down");

    /// <summary>Brings <paramref name="host"/>'s link back up.</summary>
    public Task MendAsync(LabHost host) => RunAsync("ip", "link", "set", host.Veth, "up");

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await RunQuietlyAsync("ip", "link", "del", host.Veth);
            await RunQuietlyAsync("ip", "netns", "del", host.Namespace);
        }
        await RunQuietlyAsync("ip", "link", "del", Bridge);
    }

    private static async Task RunQuietlyAsync(params string[] command)
    {
        try
        {
            await RunAsync(command);
        }
        catch (InvalidOperationException)
        {
            // Removing what is already gone (a process exit can take a veth with it) is not a failure of the test.
        }
    }

    public static async Task RunAsync(params string[] command)
    {
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in command[1..]) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{string.Join(' ', command)} failed ({process.ExitCode}): {await errors}");
    }
}

/// <summary>One host of a <see cref="NetworkLab"/>: its network namespace, the bridge end of its link, and its address.</summary>
public sealed record LabHost(string Namespace, string Veth, string Address);
