using System.Net;
using System.Net.Sockets;
using OrleansDsm.Direct;

namespace OrleansDsm.Tests.Units;

/// <summary>
/// A client's direct connection receives on a thread of its own, blocked in the socket (see
/// <see cref="DirectTransport.Blocking"/>): closing the connection must end that receive, or every closed connection
/// would keep its thread for good.
/// </summary>
public sealed class BlockingTransportTests
{
    [Fact]
    public void A_receive_blocked_in_another_thread_ends_when_the_transport_is_disposed()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Connect(listener.LocalEndPoint!);
        using var accepted = listener.Accept();
        var transport = DirectTransport.Blocking(socket);

        var ended = EndOfAReceiveBlockedInAnotherThread(transport);

        Assert.IsType<SocketException>(ended);
    }

    /// <summary>
    /// Blocks a receive on <paramref name="transport"/> in a thread of its own (the peer sends nothing), disposes the
    /// transport, and returns the error the receive ended with, failing if it does not end.
    /// </summary>
    internal static Exception? EndOfAReceiveBlockedInAnotherThread(DirectTransport transport)
    {
        Exception? ended = null;
        var receiving = new Thread(() =>
        {
            try
            {
                transport.Receive(new byte[16]);
            }
            catch (Exception error)
            {
                ended = error;
            }
        });
        receiving.Start();
        // The other side sends nothing: the receive is blocked in the kernel.
        Assert.False(receiving.Join(300));

        transport.Dispose();

        Assert.True(receiving.Join(TimeSpan.FromSeconds(10)), "the receive still blocks after the transport was disposed");
        return ended;
    }
}
