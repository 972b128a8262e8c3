using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace OrleansDsm.Networking;

/// <summary>Binds a silo's silo-to-silo and gateway endpoints with <see cref="SocketListener"/>s.</summary>
internal sealed class SocketListenerFactory(ILogger<SocketListener> logger) : IConnectionListenerFactory
{
    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IConnectionListener>(SocketListener.Bind(endpoint, logger));
}
