namespace OrleansDsm.Regions;

/// <summary>A summary of the region directory: the cluster's page size, quota and live regions.</summary>
/// <param name="PageSize">The cluster's page size in bytes.</param>
/// <param name="QuotaBytes">The most address space all regions together may reserve.</param>
/// <param name="ReservedBytes">Address space reserved now, counting regions still being freed.</param>
/// <param name="Regions">The live regions, ordered by name.</param>
[GenerateSerializer, Immutable]
public sealed record RegionDirectorySummary(
    int PageSize,
    long QuotaBytes,
    long ReservedBytes,
    IReadOnlyList<RegionDescriptor> Regions);
