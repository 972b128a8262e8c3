using System.Net.Security;
using System.Net.Sockets;

namespace OrleansDsm.Direct;

/// <summary>
/// The byte stream under one direct connection: the socket itself, or TLS over it (<see cref="DirectTls"/>). Each side
/// receives on one thread at a time and sends on one at a time (its outbox drains alone), which is all TLS allows.
/// A failure surfaces as <see cref="SocketException"/>, <see cref="IOException"/> (TLS wraps the socket's errors in
/// it) or <see cref="ObjectDisposedException"/>; disposing the transport closes the socket.
/// </summary>
internal abstract class DirectTransport : IDisposable
{
    /// <summary>Receives what has come, up to <paramref name="buffer"/>'s length; 0 once the other side has closed.</summary>
    public abstract ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellation = default);

    /// <summary>Sends some of <paramref name="bytes"/>, at least one, and returns how many; the caller sends the rest.</summary>
    public abstract ValueTask<int> SendAsync(ReadOnlyMemory<byte> bytes);

    /// <summary>Receives what has come, blocking the calling thread until something has; 0 once the other side has closed.</summary>
    public abstract int Receive(Span<byte> buffer);

    public abstract void Dispose();

    /// <summary>The socket as it is, unencrypted.</summary>
    public static DirectTransport Plain(Socket socket) => new PlainTransport(socket, blocking: false);

    /// <summary>
    /// The socket as it is, unencrypted, for a side that receives with <see cref="Receive"/> only: it sends with blocking
    /// calls too. .NET on Linux switches a socket to non-blocking for good at its first asynchronous operation, and from
    /// then on a blocking receive waits for the runtime's event thread to wake it; a socket that never had one is woken
    /// by the kernel itself, one thread woken per message instead of two.
    /// </summary>
    public static DirectTransport Blocking(Socket socket) => new PlainTransport(socket, blocking: true);

    /// <summary>TLS over <paramref name="socket"/> as a silo, once the handshake has succeeded; the socket is closed if it fails.</summary>
    /// <exception cref="System.Security.Authentication.AuthenticationException">The client's certificate was refused, or it refused ours.</exception>
    public static async Task<DirectTransport> ServerTlsAsync(Socket socket, DirectTls tls, CancellationToken cancellation)
    {
        var stream = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsServerAsync(stream, cancellation);
            return new TlsTransport(stream, blocking: false);
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// TLS over <paramref name="socket"/> as a client of <paramref name="peer"/>, for a side that receives with
    /// <see cref="Receive"/> only: the handshake and every send are blocking calls, so that the socket never has an
    /// asynchronous operation and the kernel wakes the receiving thread itself (see <see cref="Blocking"/>). The socket is
    /// closed if the handshake fails.
    /// </summary>
    /// <exception cref="System.Security.Authentication.AuthenticationException">The silo's certificate was refused, or it refused ours.</exception>
    public static DirectTransport BlockingTls(Socket socket, DirectTls tls, string peer)
    {
        var stream = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        try
        {
            tls.AuthenticateAsClient(stream, peer);
            return new TlsTransport(stream, blocking: true);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private sealed class PlainTransport(Socket socket, bool blocking) : DirectTransport
    {
        public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellation) => socket.ReceiveAsync(buffer, SocketFlags.None, cancellation);

        public override ValueTask<int> SendAsync(ReadOnlyMemory<byte> bytes) =>
            blocking ? new(socket.Send(bytes.Span, SocketFlags.None)) : socket.SendAsync(bytes, SocketFlags.None);

        public override int Receive(Span<byte> buffer) => socket.Receive(buffer, SocketFlags.None);

        // Ends a receive blocked on the socket in another thread too (.NET aborts it as it closes the socket).
        public override void Dispose() => socket.Dispose();
    }

    private sealed class TlsTransport(SslStream stream, bool blocking) : DirectTransport
    {
        public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellation) => stream.ReadAsync(buffer, cancellation);

        // A TLS write sends every byte it is given (as records of its own).
        public override ValueTask<int> SendAsync(ReadOnlyMemory<byte> bytes)
        {
            if (!blocking) return WriteAsync(bytes);
            stream.Write(bytes.Span);
            return new(bytes.Length);
        }

        private async ValueTask<int> WriteAsync(ReadOnlyMemory<byte> bytes)
        {
            await stream.WriteAsync(bytes);
            return bytes.Length;
        }

        public override int Receive(Span<byte> buffer) => stream.Read(buffer);

        public override void Dispose() => stream.Dispose();
    }
}
