using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace OrleansDsm.Connection;

/// <summary>Turns <c>host:port</c> strings into endpoints, with errors that name the bad entry.</summary>
internal static class GatewayEndpoints
{
    public static IPEndPoint[] Resolve(IEnumerable<string> gateways)
    {
        var endpoints = gateways.SelectMany(Resolve).ToArray();
        if (endpoints.Length == 0) throw new ArgumentException("At least one gateway (host:port) is needed.", nameof(gateways));
        return endpoints;
    }

    private static IEnumerable<IPEndPoint> Resolve(string gateway)
    {
        var colon = gateway.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(gateway.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            throw new ArgumentException($"Gateway '{gateway}' is not of the form host:port with a port from 1 to 65535.", nameof(gateway));
        var host = gateway[..colon].Trim('[', ']');
        if (IPAddress.TryParse(host, out var address)) return [new IPEndPoint(address, port)];
        // Orleans matches gateways by address, so a name becomes its IPv4 addresses when it has any.
        IPAddress[] addresses;
        try
        {
            addresses = Dns.GetHostAddresses(host);
        }
        catch (SocketException error)
        {
            throw new ClusterUnreachableException(gateway, $"the host name '{host}' does not resolve ({error.Message})", error);
        }
        var preferred = addresses.Where(a => a.AddressFamily == AddressFamily.InterNetwork).ToArray();
        return (preferred.Length > 0 ? preferred : addresses).Select(a => new IPEndPoint(a, port));
    }
}
