using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Orleans.Networking.Shared;

namespace OrleansDsm.Networking;

/// <summary>Opens Orleans' outgoing connections (client to gateway, silo to silo) as <see cref="SocketConnection"/>s.</summary>
internal sealed class SocketConnector : IConnectionFactory
{
    public async ValueTask<ConnectionContext> ConnectAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        // As Orleans' own: no Nagle delay for small messages, and a reset rather than a lingering close.
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, LingerState = new LingerOption(true, 0) };
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken);
        }
        catch (SocketException exception)
        {
            socket.Dispose();
            // The type Orleans' connector throws, which its connection manager expects of a refused connection.
            throw new SocketConnectionException($"Unable to connect to {endpoint}. Error: {exception.SocketErrorCode}", exception);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return SocketConnection.Start(socket);
    }
}
