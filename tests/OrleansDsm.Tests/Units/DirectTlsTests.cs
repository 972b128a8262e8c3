using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using OrleansDsm.Direct;
using OrleansDsm.Mapping;
using OrleansDsm.Testing;

namespace OrleansDsm.Tests.Units;

/// <summary>
/// The direct channel's TLS by itself, over a loopback connection: whom each side admits, and that bytes cross it
/// whole however its records split them. The silo-process tests (<c>Processes/TlsTests</c>) run the same through a
/// real silo.
/// </summary>
public sealed class DirectTlsTests : IDisposable
{
    private readonly TestCertificates _cluster = new("dsm-test-authority");
    private readonly TestCertificates _stranger = new("some-other-authority");

    [Fact]
    public async Task Server_tls_admits_a_client_without_a_certificate_and_bytes_cross_it_whole()
    {
        var (server, client) = await HandshakeAsync(new DirectTls(_cluster.Issue("silo", server: true), _cluster.Authority, peerCertificateRequired: false),
            DirectTls.ForClient(null, _cluster.Authority));
        using (server)
        using (client)
        {
            // Larger than a TLS record (16 KiB) and than the outbox's buffer, so it crosses in pieces.
            var sent = Enumerable.Range(0, 100_000).Select(i => (byte)(i * 7)).ToArray();
            for (var offset = 0; offset < sent.Length;) offset += await server.SendAsync(sent.AsMemory(offset));
            var received = new byte[sent.Length];
            for (var filled = 0; filled < received.Length;)
            {
                // Received as the client's connection does, by blocking calls on a thread of its own.
                var count = await Task.Run(() => client.Receive(received.AsSpan(filled))).WaitAsync(TimeSpan.FromSeconds(10));
                Assert.NotEqual(0, count);
                filled += count;
            }
            Assert.Equal(sent, received);
        }
    }

    [Fact]
    public async Task Mutual_tls_refuses_a_client_without_a_certificate_and_one_another_authority_signed_and_admits_one_its_authority_signed()
    {
        DirectTls Silo() => new(_cluster.Issue("silo", server: true), _cluster.Authority, peerCertificateRequired: true);

        await AssertServerRefusesAsync(Silo(), DirectTls.ForClient(null, _cluster.Authority));
        await AssertServerRefusesAsync(Silo(), DirectTls.ForClient(_stranger.Issue("intruder", server: false), _cluster.Authority));
        var (server, client) = await HandshakeAsync(Silo(), DirectTls.ForClient(_cluster.Issue("client", server: false), _cluster.Authority));
        server.Dispose();
        client.Dispose();
    }

    [Fact]
    public async Task A_client_refuses_a_silo_another_authority_signed_and_without_an_authority_one_its_machine_does_not_trust()
    {
        var silo = new DirectTls(_cluster.Issue("silo", server: true), _cluster.Authority, peerCertificateRequired: false);

        await AssertClientRefusesAsync(silo, DirectTls.ForClient(null, _stranger.Authority));
        // No authority: the machine's store decides, and it has never heard of this test's authority.
        await AssertClientRefusesAsync(silo, DirectTls.ForClient(null, null));
    }

    /// <summary>
    /// .NET on Linux turns a socket non-blocking for good at its first asynchronous operation, and a blocking receive
    /// then waits for the runtime's event thread to wake it: a wake-up more for every reply (see
    /// <see cref="DirectTransport.BlockingTls"/>). The client's side must keep its socket blocking through all it does.
    /// </summary>
    [Fact]
    public async Task A_client_keeps_its_socket_blocking_through_the_handshake_sends_and_receives()
    {
        var (serverSide, clientSide, socket) = await StartAsync(new DirectTls(_cluster.Issue("silo", server: true), _cluster.Authority, peerCertificateRequired: false),
            DirectTls.ForClient(null, _cluster.Authority));
        using var server = await serverSide;
        using var client = await clientSide;
        var sent = new byte[] { 1, 2, 3 };
        Assert.Equal(sent.Length, await client.SendAsync(sent));
        Assert.Equal(sent.Length, await server.ReceiveAsync(new byte[16]).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        await server.SendAsync(sent);
        Assert.Equal(sent.Length, await Task.Run(() => client.Receive(new byte[16])).WaitAsync(TimeSpan.FromSeconds(10)));

        var flags = LinuxMemory.fcntl((int)socket.SafeHandle.DangerousGetHandle(), GetStatusFlags, 0);

        Assert.NotEqual(-1, flags);
        Assert.Equal(0, flags & LinuxMemory.NonBlocking);
    }

    /// <summary>Closing a connection must end its receiving thread's blocked read, or each closed one would keep its thread.</summary>
    [Fact]
    public async Task A_client_receive_blocked_in_another_thread_ends_when_the_transport_is_disposed()
    {
        var (server, client) = await HandshakeAsync(new DirectTls(_cluster.Issue("silo", server: true), _cluster.Authority, peerCertificateRequired: false),
            DirectTls.ForClient(null, _cluster.Authority));
        using (server)
        {
            var ended = BlockingTransportTests.EndOfAReceiveBlockedInAnotherThread(client);

            Assert.True(ended is IOException or ObjectDisposedException, $"the read ended with {ended?.GetType().Name ?? "no error"}");
        }
    }

    public void Dispose()
    {
        _cluster.Dispose();
        _stranger.Dispose();
    }

    private static async Task AssertServerRefusesAsync(DirectTls server, DirectTls client)
    {
        var (serverSide, clientSide, _) = await StartAsync(server, client);
        await Assert.ThrowsAsync<AuthenticationException>(() => serverSide);
        await AssertNoChannelAsync(clientSide);
    }

    private static async Task AssertClientRefusesAsync(DirectTls server, DirectTls client)
    {
        var (serverSide, clientSide, _) = await StartAsync(server, client);
        await Assert.ThrowsAsync<AuthenticationException>(() => clientSide);
        await AssertNoChannelAsync(serverSide);
    }

    /// <summary>
    /// The side that did not refuse gets no channel: its handshake fails, or (TLS 1.3 lets a side finish before its
    /// peer has judged it) its first receive finds the connection closed.
    /// </summary>
    private static async Task AssertNoChannelAsync(Task<DirectTransport> side)
    {
        try
        {
            using var transport = await side;
            Assert.Equal(0, await transport.ReceiveAsync(new byte[1]).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        }
        catch (Exception error) when (error is AuthenticationException or IOException)
        {
        }
    }

    private static async Task<(DirectTransport Server, DirectTransport Client)> HandshakeAsync(DirectTls server, DirectTls client)
    {
        var (serverSide, clientSide, _) = await StartAsync(server, client);
        return (await serverSide, await clientSide);
    }

    // fcntl's command that reads a descriptor's status flags (O_NONBLOCK among them).
    private const int GetStatusFlags = 3;

    /// <summary>
    /// A loopback connection whose two ends start their handshakes, each bounded by 10 s: the silo's asynchronous, the
    /// client's by blocking calls on a thread of its own, as a client's connection makes them; with the client's socket.
    /// </summary>
    private static async Task<(Task<DirectTransport> Server, Task<DirectTransport> Client, Socket ClientSocket)> StartAsync(DirectTls server, DirectTls client)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepted = listener.AcceptSocketAsync();
        var connecting = new Socket(SocketType.Stream, ProtocolType.Tcp);
        connecting.Connect((IPEndPoint)listener.LocalEndpoint);
        var acceptedSocket = await accepted;
        var timeout = TimeSpan.FromSeconds(10);
        return (DirectTransport.ServerTlsAsync(acceptedSocket, server, new CancellationTokenSource(timeout).Token),
            Task.Run(() => DirectTransport.BlockingTls(connecting, client, "127.0.0.1")).WaitAsync(timeout), connecting);
    }
}
