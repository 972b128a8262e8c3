using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Serialization;
using Orleans.Storage;
using OrleansDsm.Grains.Hosting;

namespace OrleansDsm.Silo.Hosting;

/// <summary>Composes a shared-memory silo from its host options and configuration.</summary>
public static class SiloComposition
{
    /// <summary>
    /// Makes this host a silo of the shared memory: localhost clustering on the configured ports, in-memory storage in
    /// Orleans' binary form, the address space options from the <c>Dsm</c> section, and the dashboard when enabled.
    /// </summary>
    public static IHostApplicationBuilder AddSharedMemorySilo(this IHostApplicationBuilder builder, SiloHostOptions host)
    {
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(host.SiloPort, host.GatewayPort, serviceId: host.ServiceId, clusterId: host.ClusterId);
            silo.AddBinaryMemoryStorage(StorageNames.Pages);
            silo.AddBinaryMemoryStorage(StorageNames.Regions);
            silo.AddSharedMemory(options => options.Bind(builder.Configuration.GetSection("Dsm")));
            if (host.Dashboard) silo.AddDashboard();
        });
        return builder;
    }

    /// <summary>In-memory grain storage that keeps Orleans' binary serialization rather than base64 inside JSON.</summary>
    public static ISiloBuilder AddBinaryMemoryStorage(this ISiloBuilder silo, string name) =>
        silo.AddMemoryGrainStorage(name, options => options.Configure<Serializer>((storage, serializer) =>
            storage.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer)));

    /// <summary>The line printed once the silo serves: what it clusters with, where data lives, and its ports.</summary>
    public static string Banner(SiloHostOptions host, AddressSpaceOptions space) =>
        $"OrleansDsm silo ready: clustering=localhost (this machine only); " +
        $"storage=memory (one silo only, all data lost when it stops); page size={space.PageSize} B; " +
        $"silo port={host.SiloPort}; gateway port={host.GatewayPort}; " +
        (host.Dashboard ? $"dashboard=http://localhost:{host.HttpPort}/dashboard" : "dashboard=off");

    /// <summary>The message of the error that stopped the silo from starting, without the wrapping of the host.</summary>
    public static string StartupFailure(Exception error)
    {
        for (var current = error; current is not null; current = current.InnerException)
            if (current is OptionsValidationException or OrleansDsm.Errors.DsmException)
                return current.Message;
        return error.GetBaseException().Message;
    }
}
