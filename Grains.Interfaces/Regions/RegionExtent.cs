namespace OrleansDsm.Regions;

/// <summary>The pages one live allocation covers, as a page grain needs to know them.</summary>
/// <param name="Epoch">The allocation epoch.</param>
/// <param name="FirstPage">The first page number.</param>
/// <param name="PageCount">How many pages.</param>
[GenerateSerializer, Immutable]
public readonly record struct RegionExtent(long Epoch, long FirstPage, long PageCount)
{
    /// <summary>Whether <paramref name="page"/> belongs to this allocation.</summary>
    public bool Contains(long page) => page >= FirstPage && page - FirstPage < PageCount;
}
