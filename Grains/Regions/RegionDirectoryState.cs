using OrleansDsm.Regions;

namespace OrleansDsm.Grains.Regions;

/// <summary>The stored record of the region directory.</summary>
[GenerateSerializer]
internal sealed class RegionDirectoryState
{
    /// <summary>The cluster's page size, or 0 before the first silo has recorded it.</summary>
    [Id(0)]
    public int PageSize { get; set; }

    /// <summary>The epoch the next allocation gets; epochs are never reused.</summary>
    [Id(1)]
    public long NextEpoch { get; set; } = 1;

    /// <summary>Live regions by name.</summary>
    [Id(2)]
    public Dictionary<string, RegionDescriptor> Regions { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Regions whose name is released but whose pages are still being freed; their ranges stay reserved.</summary>
    [Id(3)]
    public List<RegionDescriptor> Releasing { get; set; } = [];

    /// <summary>The unreserved address space; null until the page size is known.</summary>
    [Id(4)]
    public AddressRangeAllocator? Space { get; set; }

    /// <summary>
    /// The SHA-256 of each live region's owner token, by region name. A region without one was allocated before owner
    /// tokens existed, and any caller may free it.
    /// </summary>
    [Id(5)]
    public Dictionary<string, byte[]> OwnerTokenHashes { get; set; } = new(StringComparer.Ordinal);
}
