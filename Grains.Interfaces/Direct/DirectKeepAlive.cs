using System.Net.Sockets;

namespace OrleansDsm.Direct;

/// <summary>
/// TCP keepalive for both ends of a direct connection: once it has carried nothing for the idle time, the kernel asks the
/// other end whether it is still there, three times a sixth of that apart (at least a second), and closes the connection
/// when nobody answers, so a receive waiting on a peer whose machine died or was cut off fails instead of waiting for
/// good. On Linux the same bound holds for bytes sent and never acknowledged (<c>TCP_USER_TIMEOUT</c>): while any are,
/// keepalive does not ask, and the kernel would otherwise retransmit them for about a quarter of an hour.
/// </summary>
internal static class DirectKeepAlive
{
    private const int Asks = 3;
    // Linux's numbers (netinet/tcp.h), which .NET does not name.
    private const int IpProtocolTcp = 6, TcpUserTimeout = 18;

    /// <summary>Turns keepalive on for <paramref name="socket"/> after <paramref name="idle"/>; zero leaves it off.</summary>
    public static void Apply(Socket socket, TimeSpan idle)
    {
        if (idle <= TimeSpan.Zero) return;
        var seconds = (int)Math.Ceiling(idle.TotalSeconds);
        var interval = Math.Max(1, seconds / 6);
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, seconds);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, interval);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, Asks);
        if (OperatingSystem.IsLinux())
            socket.SetRawSocketOption(IpProtocolTcp, TcpUserTimeout, BitConverter.GetBytes((seconds + Asks * interval) * 1000));
    }
}
