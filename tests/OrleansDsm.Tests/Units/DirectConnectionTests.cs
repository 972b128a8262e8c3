using System.Net;
using System.Net.Sockets;
using OrleansDsm.Caching;
using OrleansDsm.Direct;
using static OrleansDsm.Tests.Units.LoopbackSockets;

namespace OrleansDsm.Tests.Units;

/// <summary>A client's direct connection, against a scripted silo: how it connects, and how it answers the revocations the silo sends.</summary>
public sealed class DirectConnectionTests
{
    [Fact]
    public async Task The_answers_to_the_revocations_of_one_receive_leave_together_once_every_one_is_applied()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        Socket? silo = null;
        var answeredBeforeTheLast = false;
        var lastApplied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var applied = new List<(ushort Member, long Page)>();
        var connecting = DirectConnection.OpenAsync(new DirectEndpoint("127.0.0.1", port), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30),
            (member, revocations) =>
            {
                applied.Add((member, revocations[0].Page));
                if (revocations[0].Page == 2)
                {
                    // Time enough for an answer already sent to reach the silo's end of loopback, where nothing reads yet.
                    Thread.Sleep(200);
                    answeredBeforeTheLast = silo!.Available > 0;
                    lastApplied.SetResult();
                }
                return [revocations[0].Page == 2];
            });
        silo = await listener.AcceptAsync();
        using (silo)
        using (var connection = await connecting)
        {
            await ReceiveAsync(silo, DirectWire.HelloSize);
            // Two members' revocations in one send, as a page sends them to the clients of one process.
            DirectRevocation[] frames = [new(11, 0, [new PageRevocation(1, 7, 0, 8, null)]), new(12, 1, [new PageRevocation(2, 7, 0, 8, null)])];
            var bytes = new byte[frames.Sum(frame => frame.Length)];
            frames[0].WriteTo(bytes);
            frames[1].WriteTo(bytes.AsSpan(frames[0].Length));
            await silo.SendAsync(bytes, SocketFlags.None);
            // Nothing reads the silo's end until then, so what had arrived is still there to be seen.
            await lastApplied.Task.WaitAsync(TimeSpan.FromSeconds(10));

            var answers = new List<(uint Id, bool Kept)>();
            for (var i = 0; i < 2; i++)
            {
                var header = await ReceiveAsync(silo, DirectWire.RequestSize);
                var kept = await ReceiveAsync(silo, DirectRevocationAnswer.CountOf(header));
                var answer = DirectRevocationAnswer.ReadFrom([.. header, .. kept]);
                answers.Add((answer.Id, answer.Kept.Single()));
            }
            Assert.Equal([((ushort)0, 1L), ((ushort)1, 2L)], applied);
            Assert.Equal([(11u, false), (12u, true)], answers);
            Assert.False(answeredBeforeTheLast, "the first revocation's answer should wait until the second is applied, to leave with its answer");
        }
    }

    /// <summary>
    /// A TLS connection shakes hands by blocking calls on a pool thread, which nothing can cancel: the connect timeout
    /// must still end the attempt, closing the socket under the handshake, rather than leave the client waiting for a
    /// silo that never answers.
    /// </summary>
    [Fact]
    public async Task A_tls_handshake_the_silo_never_answers_fails_at_the_connect_timeout_and_closes_the_socket()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var endpoint = new DirectEndpoint("127.0.0.1", ((IPEndPoint)listener.LocalEndPoint!).Port, Tls: true);
        var waited = System.Diagnostics.Stopwatch.StartNew();

        var connecting = DirectConnection.OpenAsync(endpoint, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(30));
        using var silo = await listener.AcceptAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connecting.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(waited.Elapsed < TimeSpan.FromSeconds(5), $"gave up after {waited.Elapsed}");
        // The client's hello of the handshake came, then the end (a close, or the reset of one made under a blocked
        // call): the socket was closed, not left to the handshake.
        Assert.True(await ClosedAsync(silo), "the client's socket stayed open after the connect timeout");
    }

    private static async Task<bool> ClosedAsync(Socket socket)
    {
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) > 0)
            {
            }
            return true;
        }
        catch (SocketException error) when (error.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
