using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace OrleansDsm.Networking;

/// <summary>
/// Accepts Orleans' incoming connections on one bound socket, each as a <see cref="SocketConnection"/>. It never throws
/// a socket's error out of <see cref="AcceptAsync"/>: Orleans stops accepting on that endpoint for good when it does.
/// </summary>
internal sealed class SocketListener : IConnectionListener
{
    /// <summary>
    /// How long the listener waits after an accept failed for want of a resource (open files, buffers) before it tries
    /// again. The connection stays queued, so an immediate retry fails at once: a silo whose open-file limit was
    /// lowered under its connections spent 3.4 s of CPU in 3 s retrying, against 0.3-0.6 s with this wait.
    /// </summary>
    internal static readonly TimeSpan RetryAfterRefusal = TimeSpan.FromMilliseconds(100);

    private readonly Socket _socket;
    private readonly ILogger _logger;
    private bool _refusing;

    private SocketListener(Socket socket, ILogger logger)
    {
        _socket = socket;
        _logger = logger;
        EndPoint = socket.LocalEndPoint!;
    }

    /// <summary>Binds <paramref name="endpoint"/> and listens on it; <paramref name="logger"/> hears when accepting stalls and resumes.</summary>
    public static SocketListener Bind(EndPoint endpoint, ILogger? logger = null)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (endpoint is IPEndPoint { Address: var address } && address.Equals(IPAddress.IPv6Any)) socket.DualMode = true;
        try
        {
            socket.Bind(endpoint);
        }
        catch (SocketException exception) when (exception.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            socket.Dispose();
            throw new AddressInUseException(exception.Message, exception);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        socket.Listen(512);
        return Over(socket, logger ?? NullLogger.Instance);
    }

    /// <summary>A listener that accepts on <paramref name="listening"/>, a bound socket already listening.</summary>
    internal static SocketListener Over(Socket listening, ILogger logger) => new(listening, logger);

    public EndPoint EndPoint { get; }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default) =>
        await AcceptSocketAsync(cancellationToken) is { } accepted ? SocketConnection.Start(accepted) : null;

    /// <summary>
    /// The next connection, as a socket with Nagle's delay off, or null once the listener is unbound; waits out a
    /// refusal for want of a resource as <see cref="AcceptAsync"/> does. The silo's direct channel accepts through it.
    /// </summary>
    internal async ValueTask<Socket?> AcceptSocketAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            try
            {
                var accepted = await _socket.AcceptAsync(cancellationToken);
                if (_refusing)
                {
                    _refusing = false;
                    // A warning, as the stall was: whoever saw that one should see that it ended.
                    _logger.LogWarning("Accepting connections on {EndPoint} again.", EndPoint);
                }
                accepted.NoDelay = true;
                return accepted;
            }
            catch (ObjectDisposedException)
            {
                return null; // unbound
            }
            catch (SocketException exception) when (exception.SocketErrorCode == SocketError.OperationAborted)
            {
                return null; // unbound while accepting
            }
            catch (SocketException exception) when (exception.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
            {
                // A connection reset before it was accepted: that one is gone, the listener is not.
            }
            catch (SocketException exception)
            {
                // Out of descriptors (EMFILE, ENFILE) or buffers: the connection waits in the queue until they are freed.
                if (!_refusing)
                {
                    _refusing = true;
                    _logger.LogWarning(exception, "Cannot accept connections on {EndPoint} ({Error}: {Message}); retrying every {Delay} ms until it can.",
                        EndPoint, exception.SocketErrorCode, exception.Message, RetryAfterRefusal.TotalMilliseconds);
                }
                else _logger.LogDebug("Still cannot accept connections on {EndPoint} ({Error}).", EndPoint, exception.SocketErrorCode);
                await Task.Delay(RetryAfterRefusal, cancellationToken);
            }
        }
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
