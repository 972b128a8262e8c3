using Microsoft.Extensions.DependencyInjection;
using OrleansDsm.Connection;

namespace OrleansDsm.Hosting;

/// <summary>Registers a <see cref="DsmClient"/> in an application that already hosts an Orleans client.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="DsmClient"/> as a singleton over the application's <see cref="IClusterClient"/> (configured with
    /// <c>UseOrleansClient</c>, or present in a silo). The application owns the connection. The Orleans client reports
    /// the gateway connections it loses to the DSM client, which sends the calls in flight through them again at once
    /// instead of waiting out the response timeout.
    /// </summary>
    public static IServiceCollection AddDsmClient(this IServiceCollection services)
    {
        GatewayLossSignal.Register(services);
        return services.AddSingleton(provider => new DsmClient(provider.GetRequiredService<IClusterClient>()));
    }
}
