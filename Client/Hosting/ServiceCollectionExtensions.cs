using Microsoft.Extensions.DependencyInjection;

namespace OrleansDsm.Hosting;

/// <summary>Registers a <see cref="DsmClient"/> in an application that already hosts an Orleans client.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="DsmClient"/> as a singleton over the application's <see cref="IClusterClient"/> (configured with
    /// <c>UseOrleansClient</c>, or present in a silo). The application owns the connection.
    /// </summary>
    public static IServiceCollection AddDsmClient(this IServiceCollection services) =>
        services.AddSingleton(provider => new DsmClient(provider.GetRequiredService<IClusterClient>()));
}
