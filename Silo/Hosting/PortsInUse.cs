using System.Net;
using System.Net.Sockets;
using OrleansDsm.Grains.Hosting;

namespace OrleansDsm.Silo.Hosting;

/// <summary>
/// Finds the ports this silo would listen on that it cannot have, before the host starts. Orleans' listeners and
/// Kestrel report a taken port as "Address already in use", naming neither the port nor its setting, and Orleans logs
/// each listener's failure with its stack trace first; the commonest cause is a second silo started on one machine
/// with the same settings.
/// </summary>
internal static class PortsInUse
{
    /// <summary>One sentence per port that another program listens on, or whose address is not this machine's.</summary>
    public static List<string> Problems(SiloHostOptions host, AddressSpaceOptions space)
    {
        // Where the silo listens: localhost clustering binds Orleans' ports to the loopback address.
        var listen = host.IsPostgreSql ? IPAddress.Parse(host.ListenAddress) : IPAddress.Loopback;
        var http = string.Equals(host.HttpAddress, "localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback : IPAddress.Parse(host.HttpAddress);
        List<(string Setting, int Port, string AddressSetting, IPAddress Address)> wanted =
        [
            ("Silo:SiloPort", host.SiloPort, "Silo:ListenAddress", listen),
            ("Silo:GatewayPort", host.GatewayPort, "Silo:ListenAddress", listen),
            ("Silo:HttpPort", host.HttpPort, "Silo:HttpAddress", http),
        ];
        // 0 is any free port and -1 none: only a chosen one can be taken.
        if (space.DirectPort > 0) wanted.Add(("Dsm:DirectPort", space.DirectPort, "Silo:ListenAddress", listen));

        var problems = new List<string>();
        var taken = new List<string>();
        foreach (var (setting, port, addressSetting, address) in wanted)
        {
            switch (Refusal(address, port))
            {
                case null:
                    break;
                case SocketError.AddressAlreadyInUse:
                    problems.Add($"{setting} {port} on {address} is in use by another program.");
                    taken.Add($"--{setting}");
                    break;
                case SocketError.AddressNotAvailable:
                    var foreign = $"{addressSetting} {address} is not an address of this machine.";
                    if (!problems.Contains(foreign)) problems.Add(foreign);
                    break;
                case var refusal:
                    problems.Add($"{setting} {port} on {address} cannot be listened on: {new SocketException((int)refusal).Message}.");
                    break;
            }
        }
        if (taken.Count > 0) problems.Add($"If another silo runs on this machine, give this one ports of its own ({string.Join(", ", taken)}).");
        return problems;
    }

    /// <summary>Why listening on <paramref name="address"/>:<paramref name="port"/> fails now, or null if it does not.</summary>
    private static SocketError? Refusal(IPAddress address, int port)
    {
        using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            probe.Bind(new IPEndPoint(address, port));
            probe.Listen();
            return null;
        }
        catch (SocketException error)
        {
            return error.SocketErrorCode;
        }
    }
}
