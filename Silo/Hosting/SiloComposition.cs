using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Serialization;
using Orleans.Storage;
using OrleansDsm.Database.PageStore;
using OrleansDsm.Grains.Backups;
using OrleansDsm.Grains.Hosting;
using OrleansDsm.Grains.Persistence;
using OrleansDsm.Silo.Storage;

namespace OrleansDsm.Silo.Hosting;

/// <summary>Composes a shared-memory silo from its host options and configuration.</summary>
public static class SiloComposition
{
    /// <summary>
    /// Makes this host a silo of the shared memory: localhost clustering and in-memory storage, or membership and
    /// storage in PostgreSQL, on the configured ports; grain state in Orleans' binary form; the address space options
    /// from the <c>Dsm</c> section; and the dashboard when enabled.
    /// </summary>
    public static IHostApplicationBuilder AddSharedMemorySilo(this IHostApplicationBuilder builder, SiloHostOptions host, SiloTls? tls)
    {
        builder.UseOrleans(silo =>
        {
            tls?.Apply(silo);
            if (host.IsPostgreSql)
            {
                silo.UseAdoNetClustering(clustering => (clustering.Invariant, clustering.ConnectionString) = (PostgreSqlInvariant, host.ConnectionString));
                silo.Configure<ClusterOptions>(cluster => (cluster.ClusterId, cluster.ServiceId) = (host.ClusterId, host.ServiceId));
                silo.Configure<EndpointOptions>(endpoints =>
                {
                    var listen = System.Net.IPAddress.Parse(host.ListenAddress);
                    (endpoints.AdvertisedIPAddress, endpoints.SiloPort, endpoints.GatewayPort) = (System.Net.IPAddress.Parse(host.AdvertisedAddress), host.SiloPort, host.GatewayPort);
                    endpoints.SiloListeningEndpoint = new System.Net.IPEndPoint(listen, host.SiloPort);
                    endpoints.GatewayListeningEndpoint = new System.Net.IPEndPoint(listen, host.GatewayPort);
                });
                if (host.IsBatchedPageStore) silo.AddBatchedPageStore(host.ConnectionString!, host.ServiceId);
                else silo.AddBinaryPostgreSqlStorage(StorageNames.Pages, host.ConnectionString!);
                silo.AddBinaryPostgreSqlStorage(StorageNames.Regions, host.ConnectionString!);
                silo.Services.AddHostedService(services => ActivatorUtilities.CreateInstance<PostgreSqlServingLeaseRenewer>(services, host.ConnectionString!));
            }
            else
            {
                silo.UseLocalhostClustering(host.SiloPort, host.GatewayPort, serviceId: host.ServiceId, clusterId: host.ClusterId);
                silo.AddSiloMemoryStorage(StorageNames.Pages);
                silo.AddSiloMemoryStorage(StorageNames.Regions);
            }
            silo.AddSharedMemory(options =>
            {
                if (!host.IsPostgreSql) options.Configure(space => space.WriteBehind = MemoryWriteBehind);
                options.Bind(builder.Configuration.GetSection("Dsm"));
            });
            // The strongly consistent directory: membership changes do not lead to two activations of one page.
            if (host.IsStronglyConsistentDirectory) silo.AddStronglyConsistentDirectory();
            if (host.Rebalance) silo.AddRebalancing(builder.Configuration.GetSection("Silo:Rebalancing"));
            // Failure detection (ProbeTimeout, NumMissedProbesLimit, NumVotesForDeathDeclaration, ...) as Orleans names it.
            silo.Configure<ClusterMembershipOptions>(builder.Configuration.GetSection("Silo:Membership"));
            silo.Configure<SiloMessagingOptions>(messaging => messaging.MaxMessageBodySize = host.MaxMessageBytes);
            if (host.Dashboard) silo.AddDashboard();
        });
        builder.Services.AddHealthChecks().AddCheck<SiloHealthCheck>("silo");
        return builder;
    }

    /// <summary>
    /// Memory storage's default <see cref="AddressSpaceOptions.WriteBehind"/>. Memory storage survives no crash, so
    /// storing each write before acknowledging it protects nothing there, and would put a storage write in every
    /// write's path (about 11 us more a set at the median, README); written behind, a page written many times a second
    /// is stored once. Pages still store everything before a graceful deactivation, so a page that moves or idles loses
    /// nothing. <c>Dsm:WriteBehind=0</c> turns write-through back on.
    /// </summary>
    public static readonly TimeSpan MemoryWriteBehind = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Grain storage in this silo's memory (<see cref="SiloMemoryStorage"/>), in Orleans' binary form: memory mode's, whose
    /// cluster is one silo. A cluster of several silos needs storage they share, such as <see cref="AddBinaryMemoryStorage"/>.
    /// </summary>
    public static ISiloBuilder AddSiloMemoryStorage(this ISiloBuilder silo, string name)
    {
        silo.Services.AddKeyedSingleton<IGrainStorage>(name, (services, _) =>
            new SiloMemoryStorage(new ExactSizeStorageSerializer(services.GetRequiredService<Serializer>())));
        return silo;
    }

    /// <summary>
    /// Orleans' in-memory grain storage, kept in storage grains that every silo of a cluster reaches, in Orleans' binary
    /// serialization rather than base64 inside JSON.
    /// </summary>
    public static ISiloBuilder AddBinaryMemoryStorage(this ISiloBuilder silo, string name) =>
        silo.AddMemoryGrainStorage(name, options => options.Configure<Serializer>((storage, serializer) =>
            storage.GrainStorageSerializer = new ExactSizeStorageSerializer(serializer)));

    /// <summary>Grain storage in PostgreSQL (the schema of Database/Migrations) in Orleans' binary form.</summary>
    private static ISiloBuilder AddBinaryPostgreSqlStorage(this ISiloBuilder silo, string name, string connectionString) =>
        silo.AddAdoNetGrainStorage(name, options => options.Configure<Serializer>((storage, serializer) =>
        {
            (storage.Invariant, storage.ConnectionString) = (PostgreSqlInvariant, connectionString);
            storage.GrainStorageSerializer = new ExactSizeStorageSerializer(serializer);
        }));

    /// <summary>Orleans 10's distributed grain directory (versioned range locks), which it still marks experimental.</summary>
#pragma warning disable ORLEANSEXP003 // Opting in is the point: the eventually consistent default allows duplicate activations.
    private static ISiloBuilder AddStronglyConsistentDirectory(this ISiloBuilder silo)
    {
        silo.AddDistributedGrainDirectory();
        // After a crash, Orleans holds the dead silo's grains off other silos for 2 x ProbeTimeout x NumMissedProbesLimit
        // unless told otherwise, in case the silo was only cut off. Pages need no more than the serving lease for that
        // (a silo that cannot renew it stops serving), so the hold is one serving lease: failover is not slowed twice.
        silo.Services.AddOptions<GrainDirectoryOptions>().Configure<IOptions<AddressSpaceOptions>>((directory, space) =>
            directory.RangeLeaseDuration = space.Value.ServingLease);
        return silo;
    }
#pragma warning restore ORLEANSEXP003

    /// <summary>
    /// Orleans' activation rebalancer, which moves activations (pages among them) from fuller silos to emptier ones in
    /// sessions of cycles. A page moves as it deactivates gracefully: it stores what it holds, revokes every cached copy
    /// and records that no lease is out, so its next activation, on the other silo, serves at once.
    /// </summary>
#pragma warning disable ORLEANSEXP002 // Opt-in (Silo:Rebalance): Orleans 10 still marks the rebalancer experimental.
    private static void AddRebalancing(this ISiloBuilder silo, IConfiguration timing)
    {
        silo.AddActivationRebalancer();
        silo.Configure<ActivationRebalancerOptions>(timing);
    }
#pragma warning restore ORLEANSEXP002

    /// <summary>Pages in the dsm_pages table through <see cref="PostgreSqlPageStore"/>, in Orleans' binary form.</summary>
    private static ISiloBuilder AddBatchedPageStore(this ISiloBuilder silo, string connectionString, string serviceId)
    {
        silo.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.Pages, (services, _) =>
            new PostgreSqlPageStore(connectionString, serviceId, new ExactSizeStorageSerializer(services.GetRequiredService<Serializer>())));
        // Backups read the same table in one snapshot.
        silo.Services.AddSingleton<IPageSnapshots>(new PostgreSqlPageSnapshots(connectionString, serviceId));
        return silo;
    }

    private const string PostgreSqlInvariant = "Npgsql";

    /// <summary>The line printed once the silo serves: what it clusters with, where data lives, and its ports.</summary>
    public static string Banner(SiloHostOptions host, AddressSpaceOptions space, SiloTls? tls, OrleansDsm.Direct.DirectEndpoint? direct) =>
        "OrleansDsm silo ready: " +
        (host.IsPostgreSql
            ? $"clustering=PostgreSQL; storage=PostgreSQL (durable: {DatabaseName(host.ConnectionString!)}; pages {(host.IsBatchedPageStore ? "batched" : "through AdoNet")}; {WritePolicy(space)}); advertised address={host.AdvertisedAddress}; listening on {host.ListenAddress}; "
            : $"clustering=localhost (this machine only); storage=memory (one silo only, all data lost when it stops; {WritePolicy(space)}); ") +
        (host.Rebalance ? "rebalancing=on; " : "") +
        $"page size={space.PageSize} B; tls={tls?.Mode ?? "off"}; " +
        $"silo port={host.SiloPort}; gateway port={host.GatewayPort}; direct channel={(direct is null ? "off" : $"port {direct.Port}{(direct.Tls ? " (tls)" : "")}")}; " +
        $"health=http://{host.HttpAddress}:{host.HttpPort}/health; " +
        (host.Dashboard ? $"dashboard=http://{host.HttpAddress}:{host.HttpPort}/dashboard{(host.DashboardPassword is not null || host.DashboardPasswordFile is not null ? $" (user {host.DashboardUser}, password)" : "")}" : "dashboard=off");

    /// <summary>
    /// The line a silo prints once it has stopped: how long the stop took and where its data is now, or how many pages
    /// lost acknowledged writes on the way out (write-behind only).
    /// </summary>
    public static string Farewell(SiloHostOptions host, TimeSpan stopping, long pagesWithLostWrites, string? lastRefusal) =>
        $"OrleansDsm silo stopped after {stopping.TotalSeconds:0.0} s: " +
        (pagesWithLostWrites > 0
            ? $"{pagesWithLostWrites} {(pagesWithLostWrites == 1 ? "page" : "pages")} lost acknowledged writes that were not yet stored (write-behind): " +
              (lastRefusal is null ? "the stop ended before they were" : $"storage refused them (last refusal: {lastRefusal}); the log names each page")
            : host.IsPostgreSql
                ? $"every acknowledged write is stored in PostgreSQL ({DatabaseName(host.ConnectionString!)})"
                : "storage was memory, so its regions and pages are gone");

    private static string WritePolicy(AddressSpaceOptions space) => space.WriteBehind > TimeSpan.Zero
        ? $"write-behind: pages stored within {space.WriteBehind.TotalSeconds:0.###} s of a write"
        : "write-through";

    private static string DatabaseName(string connectionString)
    {
        var parts = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        return $"database {parts.Database} on {parts.Host}:{parts.Port}";
    }

    /// <summary>The message of the error that stopped the silo from starting, without the wrapping of the host.</summary>
    public static string StartupFailure(Exception error)
    {
        for (var current = error; current is not null; current = current.InnerException)
            if (current is OptionsValidationException or OrleansDsm.Errors.DsmException)
                return current.Message;
        return error.GetBaseException().Message;
    }
}
