using System.Net;
using System.Net.Sockets;

namespace OrleansDsm.Tests.Units;

/// <summary>The two ends of a TCP connection on loopback, and whole reads from one, for tests of what a direct connection sends.</summary>
internal static class LoopbackSockets
{
    /// <summary>A connected pair: the end that connected (no Nagle delay) and the end that accepted.</summary>
    public static async Task<(Socket Connected, Socket Accepted)> ConnectedPairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var connected = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await connected.ConnectAsync(listener.LocalEndPoint!);
        return (connected, await listener.AcceptAsync());
    }

    /// <summary>Exactly <paramref name="count"/> bytes from <paramref name="socket"/>, failing if they do not come within 10 s or the peer closes.</summary>
    public static async Task<byte[]> ReceiveAsync(Socket socket, int count)
    {
        var bytes = new byte[count];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        for (var filled = 0; filled < count;)
        {
            var received = await socket.ReceiveAsync(bytes.AsMemory(filled), SocketFlags.None, timeout.Token);
            Assert.NotEqual(0, received);
            filled += received;
        }
        return bytes;
    }
}
