using OrleansDsm.Pages;
using OrleansDsm.Regions;

namespace OrleansDsm.Inspection;

/// <summary>What <see cref="DsmClient.StatAsync"/> found out about a region.</summary>
/// <param name="Region">The region.</param>
/// <param name="PagesTouched">Pages of the region that have ever been written or cached (the others read as zeros and cost nothing).</param>
/// <param name="PagesExamined">How many of the touched pages were asked for their state (all of them, up to the limit given).</param>
/// <param name="PagesStored">Of the pages examined, those whose bytes storage holds.</param>
/// <param name="HotPages">The pages examined that were written most often (highest version first), at most five.</param>
/// <param name="PagesBySilo">
/// How many of the pages examined are active on each silo (by its address), which shows where placement put them
/// (see <c>Dsm:PagePlacement</c>). A page that was not active when asked activates where placement puts it for a call
/// from the asking client's gateway.
/// </param>
public sealed record RegionStatistics(RegionDescriptor Region, long PagesTouched, int PagesExamined, int PagesStored, IReadOnlyList<PageSummary> HotPages,
    IReadOnlyDictionary<string, int> PagesBySilo)
{
    /// <summary>Bytes the examined pages keep in storage: a page is stored whole.</summary>
    public long BytesStored => (long)PagesStored * Region.PageSize;
}
