using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Orleans.Networking.Shared;
using OrleansDsm.Networking;
using OrleansDsm.Testing;

namespace OrleansDsm.Tests.Units;

/// <summary>
/// The socket transport on its own, over loopback: bytes arrive whole and in order however they are cut, both ways at
/// once and in pieces larger than a receive; a close reaches the other side; connecting or binding where that
/// cannot be done fails with the errors Orleans expects of its own transport; and a listener that cannot accept waits
/// between attempts.
/// </summary>
public sealed class SocketTransportTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Bytes_cut_into_writes_of_any_size_arrive_whole_and_in_order_both_ways_at_once()
    {
        await using var listener = SocketListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var accepting = listener.AcceptAsync().AsTask();
        await using var client = await new SocketConnector().ConnectAsync(listener.EndPoint);
        await using var server = (await accepting.WaitAsync(Patience))!;
        // Several of the largest receives' worth, so receives grow to their largest, and pieces up to twice that.
        var up = RandomBytes(3 * SocketConnection.LargestReceiveBytes + 12345, seed: 1);
        var down = RandomBytes(5 * SocketConnection.LargestReceiveBytes + 7, seed: 2);

        var sending = Task.WhenAll(WriteInPiecesAsync(client.Transport.Output, up, seed: 3), WriteInPiecesAsync(server.Transport.Output, down, seed: 4));
        var received = await Task.WhenAll(ReadAsync(server.Transport.Input, up.Length), ReadAsync(client.Transport.Input, down.Length)).WaitAsync(Patience);
        await sending.WaitAsync(Patience);

        Assert.Equal(up, received[0]);
        Assert.Equal(down, received[1]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_connection_aborted_or_disposed_ends_the_other_sides_input_and_signals_both_closed(bool abort)
    {
        await using var listener = SocketListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var accepting = listener.AcceptAsync().AsTask();
        var client = await new SocketConnector().ConnectAsync(listener.EndPoint);
        await using var server = (await accepting.WaitAsync(Patience))!;

        // As Orleans' transport does, a close resets the connection (linger 0): what the other side has not read yet
        // may be lost, so only the end itself is checked.
        if (abort) client.Abort(new ConnectionAbortedException("the test aborted it"));
        else await client.DisposeAsync().AsTask().WaitAsync(Patience);

        await WaitForAsync(server.ConnectionClosed);
        if (abort) await WaitForAsync(client.ConnectionClosed);
        try
        {
            var end = await server.Transport.Input.ReadAsync().AsTask().WaitAsync(Patience);
            Assert.True(end.IsCompleted, "The input did not end once the other side closed.");
        }
        catch (ConnectionResetException)
        {
            // A reset ends the input too.
        }
        if (abort) await client.DisposeAsync().AsTask().WaitAsync(Patience);
    }

    [Fact]
    public async Task Connecting_where_nobody_listens_fails_with_orleans_connection_error_naming_the_endpoint()
    {
        var nobody = new IPEndPoint(IPAddress.Loopback, LoopbackPorts.Free());

        var error = await Assert.ThrowsAsync<SocketConnectionException>(async () => await new SocketConnector().ConnectAsync(nobody));

        Assert.Contains(nobody.ToString(), error.Message);
    }

    [Fact]
    public async Task Binding_a_port_in_use_fails_with_address_in_use()
    {
        await using var first = SocketListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));

        Assert.Throws<AddressInUseException>(() => SocketListener.Bind(first.EndPoint));
    }

    [Fact]
    public async Task An_unbound_listener_accepts_nothing_more()
    {
        var listener = SocketListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var accepting = listener.AcceptAsync().AsTask();

        await listener.UnbindAsync();

        Assert.Null(await accepting.WaitAsync(Patience));
    }

    [Fact]
    public async Task A_listener_whose_accepts_keep_failing_waits_between_attempts_warns_once_and_accepts_again_once_it_can()
    {
        // Accept on a listening socket shut down for receiving fails at once, every time, as it does while the process
        // is out of descriptors (the connection waits in the queue): the case where retrying at once spun a core.
        // Listening again (Linux allows it, on a port it picks) stands for descriptors freed.
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Listen();
        socket.Shutdown(SocketShutdown.Receive);
        var log = new FakeLogger();
        await using var listener = SocketListener.Over(socket, log);
        var watched = TimeSpan.FromSeconds(1);
        using (var stop = new CancellationTokenSource(watched))
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => listener.AcceptAsync(stop.Token).AsTask());

        var warning = Assert.Single(log.Collector.GetSnapshot(), entry => entry.Level == LogLevel.Warning);
        Assert.Contains("Cannot accept connections on", warning.Message);
        Assert.Contains("InvalidArgument", warning.Message);
        Assert.InRange(log.Collector.Count, 2, (int)(watched / SocketListener.RetryAfterRefusal) + 2);

        socket.Listen();
        // Socket.LocalEndPoint keeps the port bound first; a second view of the same handle asks the kernel.
        using var view = new Socket(new SafeSocketHandle(socket.Handle, ownsHandle: false));
        var listening = view.LocalEndPoint!;
        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await peer.ConnectAsync(listening);
        await using var accepted = await listener.AcceptAsync().AsTask().WaitAsync(Patience);

        Assert.NotNull(accepted);
        var warnings = log.Collector.GetSnapshot().Where(entry => entry.Level == LogLevel.Warning).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.Contains("Accepting connections on", warnings[1].Message);
    }

    [Fact]
    public void Use_refuses_services_without_orleans_connections_and_adds_nothing()
    {
        var services = new ServiceCollection();

        var error = Assert.Throws<InvalidOperationException>(() => SocketTransport.Use(services));

        Assert.Contains("not registered yet", error.Message);
        Assert.Empty(services);
    }

    private static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Writes <paramref name="bytes"/> in pieces of random sizes, from one byte to twice the largest receive, each flushed.</summary>
    private static async Task WriteInPiecesAsync(PipeWriter output, byte[] bytes, int seed)
    {
        var sizes = new Random(seed);
        for (var done = 0; done < bytes.Length;)
        {
            var size = Math.Min(bytes.Length - done, sizes.Next(1, 2 * SocketConnection.LargestReceiveBytes));
            await output.WriteAsync(bytes.AsMemory(done, size));
            done += size;
        }
    }

    private static async Task<byte[]> ReadAsync(PipeReader input, int count)
    {
        while (true)
        {
            var result = await input.ReadAsync();
            if (result.Buffer.Length >= count)
            {
                var bytes = result.Buffer.Slice(0, count).ToArray();
                input.AdvanceTo(result.Buffer.GetPosition(count));
                return bytes;
            }
            if (result.IsCompleted) throw new InvalidOperationException($"The input ended after {result.Buffer.Length} of {count} bytes.");
            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    private static async Task WaitForAsync(CancellationToken closed)
    {
        var signalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var registration = closed.Register(() => signalled.TrySetResult());
        await signalled.Task.WaitAsync(Patience);
    }
}
