namespace OrleansDsm.Regions;

/// <summary>A stretch of an allocation's touched pages (see <see cref="IRegionGrain.GetTouchedPages"/>).</summary>
/// <param name="Total">How many pages of the allocation are touched in all.</param>
/// <param name="Pages">The page numbers of this stretch, ascending.</param>
[GenerateSerializer, Immutable]
public sealed record TouchedPages(long Total, long[] Pages)
{
    /// <summary>The most pages one call lists.</summary>
    public const int MaxPerCall = 4096;
}
