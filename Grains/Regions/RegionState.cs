using OrleansDsm.Regions;

namespace OrleansDsm.Grains.Regions;

/// <summary>The stored record of one allocation.</summary>
[GenerateSerializer]
internal sealed class RegionState
{
    [Id(1)]
    public RegionExtent Extent { get; set; }

    [Id(2)]
    public bool Freed { get; set; }

    /// <summary>Pages that may have a stored record for this allocation.</summary>
    [Id(3)]
    public PageSet Touched { get; set; } = new();
}
