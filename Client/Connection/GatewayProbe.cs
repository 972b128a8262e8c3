using System.Net;
using System.Net.Sockets;

namespace OrleansDsm.Connection;

/// <summary>
/// Says what is at each gateway a connect gave up on, so that "no gateway answered" comes with its likely cause: nothing
/// listening (the silo is down, or the port is wrong), nothing answering at all (a host or firewall that drops packets),
/// or something that accepts connections but is not this cluster's gateway (another of the silo's ports, another
/// cluster, or TLS on one side only). Orleans' client only retries and times out in all three.
/// </summary>
internal static class GatewayProbe
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(1);

    /// <summary>One clause per gateway, joined by "; ", each naming the endpoint and what was found there.</summary>
    public static async Task<string> DescribeAsync(IReadOnlyList<IPEndPoint> gateways, string clusterId)
    {
        var findings = await Task.WhenAll(gateways.Select(gateway => DescribeAsync(gateway, clusterId)));
        return string.Join("; ", findings);
    }

    private static async Task<string> DescribeAsync(IPEndPoint gateway, string clusterId)
    {
        using var socket = new Socket(gateway.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var patience = new CancellationTokenSource(Patience);
        try
        {
            await socket.ConnectAsync(gateway, patience.Token);
            return $"{gateway} accepts connections but did not answer as a gateway of cluster '{clusterId}': it may be another of the silo's ports "
                + "(the gateway port is 30000 unless Silo:GatewayPort says otherwise), a silo of another cluster or service id, or TLS on one side only";
        }
        catch (SocketException error) when (error.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return $"nothing listens at {gateway}";
        }
        catch (OperationCanceledException)
        {
            return $"{gateway} did not accept a connection within {Patience.TotalSeconds:0} s";
        }
        catch (SocketException error)
        {
            return $"connecting to {gateway} failed: {error.Message}";
        }
    }
}
