using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using OrleansDsm.Direct;
using OrleansDsm.Grains.Hosting;
using OrleansDsm.Grains.Pages;
using OrleansDsm.Grains.Regions;

namespace OrleansDsm.Grains.Direct;

/// <summary>
/// Takes the silo's direct connections (see <see cref="DirectWire"/>) from the moment the silo is active until it
/// begins to stop, when it closes them all, so their clients go back to Orleans calls before any page deactivates.
/// It listens where the gateway does, on <see cref="AddressSpaceOptions.DirectPort"/> (0: a free port), and tells
/// clients the address the silo advertises. On a silo with TLS (<paramref name="tls"/>) every connection is TLS, with
/// the certificate and peer rules of the silo's Orleans connections, and the endpoint says so.
/// </summary>
internal sealed class DirectListener(
    IOptions<AddressSpaceOptions> space, IOptions<EndpointOptions> endpoints, LocalPages local, RegionLivenessCache regions,
    IGrainFactory grains, DirectSessions sessions, Caching.SessionLeaseTable leases, Metrics.SiloMetrics metrics, ILogger<DirectListener> logger,
    DirectTls? tls = null)
    : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly HashSet<Socket> _open = [];
    private Networking.SocketListener? _listener;
    private Task _accepting = Task.CompletedTask;

    /// <summary>Where clients connect, once the listener has started; null while it has not, or when it is off.</summary>
    public DirectEndpoint? Endpoint { get; private set; }

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(DirectListener), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    private Task StartAsync(CancellationToken cancellation)
    {
        if (space.Value.DirectPort < 0) return Task.CompletedTask;
        var options = endpoints.Value;
        var address = options.GatewayListeningEndpoint?.Address ?? options.AdvertisedIPAddress ?? IPAddress.Any;
        try
        {
            // The transport's listener, for its handling of accepts refused for want of a resource (open files).
            _listener = Networking.SocketListener.Bind(new IPEndPoint(address, space.Value.DirectPort), logger);
        }
        catch (Exception error) when (error is SocketException or Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            // Without the socket error as inner exception: the silo reports the innermost one, and this one names the setting.
            throw new InvalidOperationException($"Dsm:DirectPort {space.Value.DirectPort} on {address} could not be opened: {error.Message}. Choose a free port, 0 for any, or -1 to turn the direct channel off.");
        }
        var bound = (IPEndPoint)_listener.EndPoint;
        Endpoint = new DirectEndpoint((options.AdvertisedIPAddress ?? bound.Address).ToString(), bound.Port, Tls: tls is not null);
        _accepting = AcceptAsync(_listener, _stopping.Token);
        return Task.CompletedTask;
    }

    private async Task AcceptAsync(Networking.SocketListener listener, CancellationToken stopping)
    {
        try
        {
            while (await listener.AcceptSocketAsync(stopping) is { } socket)
            {
                lock (_open) _open.Add(socket);
                _ = ServeAsync(socket, stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task ServeAsync(Socket socket, CancellationToken stopping)
    {
        DirectTransport? transport = null;
        try
        {
            DirectKeepAlive.Apply(socket, space.Value.DirectKeepAlive);
            transport = await TransportAsync(socket, stopping);
            await new DirectSession(transport, local, regions, grains, sessions, leases, metrics).RunAsync(stopping);
        }
        catch (Exception error) when (error is SocketException or ObjectDisposedException or OperationCanceledException or IOException
            or System.Security.Authentication.AuthenticationException)
        {
            // The client went away, failed the TLS handshake, or the silo is stopping: its requests in flight end with the
            // connection, and the client sends them again as Orleans calls.
        }
        catch (Exception error)
        {
            logger.LogWarning(error, "A direct connection ended with an unexpected error.");
        }
        finally
        {
            lock (_open) _open.Remove(socket);
            // TLS's own state goes with its stream, not with the socket under it.
            transport?.Dispose();
            socket.Dispose();
        }
    }

    /// <summary>The socket as it is, or TLS over it once the handshake is done, which must end as soon as a hello would.</summary>
    private async Task<DirectTransport> TransportAsync(Socket socket, CancellationToken stopping)
    {
        if (tls is null) return DirectTransport.Plain(socket);
        using var handshake = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        handshake.CancelAfter(DirectSession.HelloTimeout);
        try
        {
            return await DirectTransport.ServerTlsAsync(socket, tls, handshake.Token);
        }
        catch (Exception) when (!stopping.IsCancellationRequested)
        {
            // Refused, cut off or timed out: a client that fails here keeps to Orleans calls, which only this counter shows.
            metrics.DirectConnectionRefused("tls");
            throw;
        }
    }

    private async Task StopAsync(CancellationToken cancellation)
    {
        Endpoint = null;
        await _stopping.CancelAsync();
        if (_listener is not null) await _listener.DisposeAsync();
        lock (_open)
            foreach (var socket in _open) socket.Dispose();
        await _accepting;
    }
}
