using System.Net;
using Microsoft.AspNetCore.Connections;

namespace OrleansDsm.Networking;

/// <summary>Binds a silo's silo-to-silo and gateway endpoints with <see cref="SocketListener"/>s.</summary>
internal sealed class SocketListenerFactory : IConnectionListenerFactory
{
    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IConnectionListener>(SocketListener.Bind(endpoint));
}
