using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace OrleansDsm.Networking;

/// <summary>
/// Puts <see cref="SocketConnection"/> in place of Orleans' socket transport, in a silo or a client. Orleans registers
/// its connectors and listeners as keyed services under keys of its own, and takes the last registration for each key;
/// this registers ours under the same keys, found among the registrations, after Orleans' defaults are in.
/// </summary>
internal static class SocketTransport
{
    /// <summary>Registers the transport for every Orleans connector and listener in <paramref name="services"/>.</summary>
    /// <exception cref="InvalidOperationException">Orleans' connection services are not registered yet.</exception>
    public static void Use(IServiceCollection services)
    {
        var connectors = KeysOf<IConnectionFactory>(services);
        var listeners = KeysOf<IConnectionListenerFactory>(services);
        if (connectors.Count == 0)
            throw new InvalidOperationException("Orleans' connection services are not registered yet: add the shared memory's transport inside UseOrleans or UseOrleansClient.");
        foreach (var key in connectors) services.AddKeyedSingleton<IConnectionFactory>(key, (_, _) => new SocketConnector());
        foreach (var key in listeners) services.AddKeyedSingleton<IConnectionListenerFactory>(key, (provider, _) => new SocketListenerFactory(provider.GetRequiredService<ILogger<SocketListener>>()));
    }

    private static List<object> KeysOf<TService>(IServiceCollection services) =>
        [.. services.Where(service => service.IsKeyedService && service.ServiceType == typeof(TService)).Select(service => service.ServiceKey!).Distinct()];
}
