using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Hosting;
using OrleansDsm.Grains.Pages;
using OrleansDsm.Grains.Regions;
using OrleansDsm.Regions;

namespace OrleansDsm.Grains.Hosting;

/// <summary>Adds the shared memory's grains and services to a silo.</summary>
public static class SiloBuilderExtensions
{
    /// <summary>
    /// Registers what page and region grains need, and a start-up check that refuses to start the silo when its page
    /// size differs from the cluster's. The caller registers the storage providers named in <see cref="StorageNames"/>.
    /// </summary>
    public static ISiloBuilder AddSharedMemory(this ISiloBuilder builder, Action<OptionsBuilder<AddressSpaceOptions>>? configure = null)
    {
        var options = builder.Services.AddOptions<AddressSpaceOptions>().ValidateOnStart();
        configure?.Invoke(options);
        builder.Services.AddSingleton<IValidateOptions<AddressSpaceOptions>, AddressSpaceOptionsValidator>();
        builder.Services.AddSingleton<RegionLivenessCache>();
        builder.Services.AddSingleton<LocalPages>();
        builder.Services.AddSingleton(services => new UnstoredWriteLosses(services.GetRequiredService<LocalPages>(),
            services.GetRequiredService<IOptions<AddressSpaceOptions>>(), services.GetRequiredService<Microsoft.Extensions.Logging.ILogger<UnstoredWriteLosses>>()));
        builder.Services.AddSingleton<Direct.DirectSessions>();
        builder.Services.AddSingleton<Direct.DirectListener>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(services => services.GetRequiredService<Direct.DirectListener>());
        builder.Services.AddSingleton<PageServices>();
        builder.Services.AddSingleton<Caching.SessionLeaseTable>();
        builder.Services.AddSingleton<Caching.RevocationSender>();
        builder.Services.AddSingleton<Serving.ServingLease>();
        builder.Services.AddHostedService<Serving.SiloDeathWatch>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, Serving.DrainRevocations>();
        builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, PageDeactivationWatch>();
        builder.Services.AddSingleton<Metrics.SiloMetrics>();
        builder.Services.AddHostedService<Metrics.SiloMetricsReporter>();
        builder.Services.AddSingleton<Serving.MemoryPressure>();
        builder.Services.AddPlacementDirector<Placement.PagePlacement, Placement.PagePlacementDirector>();
        // A placement that outlasts Orleans' timeout fails its call with Polly's TimeoutRejectedException, which Orleans
        // writes into the response only from an admitted namespace; else the response cannot be written and the client
        // gets a serialization error it cannot tell from a bug. Admitted, it reaches the client, which calls again.
        builder.Services.Configure<Orleans.Serialization.ExceptionSerializationOptions>(options =>
            options.SupportedNamespacePrefixes.Add(typeof(Polly.Timeout.TimeoutRejectedException).Namespace!));
        // Receives of up to 64 KiB instead of Orleans' 4 KiB, and socket completions on the thread pool directly (see
        // SocketConnection, and the client's UseLowLatencySockets for what it gained).
        Networking.SocketTransport.Use(builder.Services);
        builder.Services.AddOptions<GrainCollectionOptions>()
            .Configure<IOptions<AddressSpaceOptions>>((collection, space) =>
            {
                collection.ClassSpecificCollectionAge[typeof(PageGrain).FullName!] = space.Value.PageIdleTimeout;
                collection.EnableActivationSheddingOnMemoryPressure = true;
                collection.MemoryUsageLimitPercentage = space.Value.MemorySheddingPercent;
                collection.MemoryUsageTargetPercentage = space.Value.MemorySheddingPercent - 10;
                collection.MemoryUsagePollingPeriod = TimeSpan.FromSeconds(1);
            });
        builder.AddStartupTask(async (services, cancellation) =>
        {
            var pageSize = services.GetRequiredService<IOptions<AddressSpaceOptions>>().Value.PageSize;
            await services.GetRequiredService<IGrainFactory>()
                .GetGrain<IRegionDirectoryGrain>(0)
                .EnsurePageSize(pageSize)
                .WaitAsync(cancellation);
        });
        return builder;
    }

    /// <summary>
    /// Encrypts the silo's direct channel as its Orleans connections are: every connection is TLS, presenting
    /// <paramref name="certificate"/>, admitting clients whose certificate <paramref name="authority"/> signed (the
    /// machine's store when null), and refusing clients without one when <paramref name="mutual"/>.
    /// </summary>
    internal static ISiloBuilder UseDirectChannelTls(this ISiloBuilder builder, System.Security.Cryptography.X509Certificates.X509Certificate2 certificate,
        System.Security.Cryptography.X509Certificates.X509Certificate2? authority, bool mutual)
    {
        builder.Services.AddSingleton(new OrleansDsm.Direct.DirectTls(certificate, authority, peerCertificateRequired: mutual));
        return builder;
    }
}
