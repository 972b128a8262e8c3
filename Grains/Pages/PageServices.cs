using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Storage;
using OrleansDsm.Grains.Caching;
using OrleansDsm.Grains.Hosting;
using OrleansDsm.Grains.Metrics;
using OrleansDsm.Grains.Regions;
using OrleansDsm.Grains.Serving;

namespace OrleansDsm.Grains.Pages;

/// <summary>
/// What every page grain of a silo uses from the silo, in one object: a silo holds a page grain for each active page
/// (100,000 and more), so each holds one reference to this rather than a field for each service and setting.
/// </summary>
internal sealed class PageServices(
    RegionLivenessCache regions,
    SessionLeaseTable leases,
    RevocationSender revocations,
    ServingLease serving,
    SiloMetrics metrics,
    MemoryPressure memory,
    LocalPages local,
    UnstoredWriteLosses losses,
    [FromKeyedServices(StorageNames.Pages)] IGrainStorage pageStorage,
    IOptions<AddressSpaceOptions> options,
    ILocalSiloDetails silo,
    Direct.DirectListener direct)
{
    /// <summary>Where this silo takes direct connections, once its listener has started; null while not, or when off.</summary>
    public OrleansDsm.Direct.DirectEndpoint? DirectEndpoint => direct.Endpoint;

    /// <summary>This silo's address, as Orleans names it: where a page reports itself active.</summary>
    public string SiloAddress { get; } = silo.SiloAddress.ToString();

    public RegionLivenessCache Regions { get; } = regions;

    public SessionLeaseTable Leases { get; } = leases;

    public RevocationSender Revocations { get; } = revocations;

    public ServingLease Serving { get; } = serving;

    public SiloMetrics Metrics { get; } = metrics;

    public MemoryPressure Memory { get; } = memory;

    public LocalPages Local { get; } = local;

    public UnstoredWriteLosses Losses { get; } = losses;

    /// <summary>The storage provider that holds page records (see <see cref="Persistence.DirectState{T}"/>).</summary>
    public IGrainStorage PageStorage { get; } = pageStorage;

    public int PageSize { get; } = options.Value.PageSize;

    public TimeSpan CacheLease { get; } = options.Value.CacheLease;

    public TimeSpan WriteBehind { get; } = options.Value.WriteBehind;

    public TimeSpan PageIdleTimeout { get; } = options.Value.PageIdleTimeout;

    public bool SkipInvalidationForCheckerTests { get; } = options.Value.SkipInvalidationForCheckerTests;
}
