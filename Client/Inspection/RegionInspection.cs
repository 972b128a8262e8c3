using OrleansDsm.Pages;
using OrleansDsm.Regions;

namespace OrleansDsm.Inspection;

/// <summary>Gathers <see cref="RegionStatistics"/>: the touched pages from the region's grain, then each page's state.</summary>
internal static class RegionInspection
{
    private const int PagesInFlight = 256;

    public static async Task<RegionStatistics> StatAsync(IGrainFactory grains, RegionDescriptor region, int pageLimit, CancellationToken cancellation)
    {
        var allocation = grains.GetGrain<IRegionGrain>(region.Epoch);
        var pages = new List<long>();
        long total = 0;
        for (var after = -1L; pages.Count < pageLimit; )
        {
            var stretch = await allocation.GetTouchedPages(after, Math.Min(TouchedPages.MaxPerCall, pageLimit - pages.Count)).WaitAsync(cancellation);
            total = stretch.Total;
            if (stretch.Pages.Length == 0) break;
            pages.AddRange(stretch.Pages);
            after = stretch.Pages[^1];
        }
        var summaries = new List<PageSummary>(pages.Count);
        var references = new GrainReferences<IPageGrain>(grains);
        foreach (var batch in pages.Chunk(PagesInFlight))
            summaries.AddRange(await Task.WhenAll(batch.Select(page => references[page].GetState().WaitAsync(cancellation))));
        // A page whose stored bytes belong to another allocation holds nothing of this region's.
        var mine = summaries.Where(summary => summary.Stored && summary.Epoch == region.Epoch).ToList();
        var bySilo = summaries.GroupBy(summary => summary.Silo).OrderBy(silo => silo.Key, StringComparer.Ordinal).ToDictionary(silo => silo.Key, silo => silo.Count());
        return new RegionStatistics(region, total, pages.Count, mine.Count, [.. mine.OrderByDescending(summary => summary.Version).ThenBy(summary => summary.PageNumber).Take(5)], bySilo);
    }
}
