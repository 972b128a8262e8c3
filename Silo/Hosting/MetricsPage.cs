using System.Globalization;
using System.Net;
using System.Text;
using OrleansDsm.Metrics;

namespace OrleansDsm.Silo.Hosting;

/// <summary>
/// The DSM's metrics beside the dashboard: <c>/dsm/metrics</c>, a page that refreshes itself, and
/// <c>/dsm/metrics.json</c> for scripts. Both show the cluster's <see cref="IMetricsGrain"/> summary (the dashboard
/// shows the same under Grain Details, MetricsGrain): cache hit rate, revocations, writer stall and storage writes,
/// for the whole cluster and per reporting process.
/// </summary>
internal static class MetricsPage
{
    /// <summary>Where the DSM's own pages live; the dashboard's login covers all of it.</summary>
    public const string Root = "/dsm";

    private const string Path = Root + "/metrics";

    public static void Map(WebApplication app)
    {
        app.MapGet(Path + ".json", async (IGrainFactory grains) => Results.Json(await Summary(grains)));
        app.MapGet(Path, async (IGrainFactory grains) => Results.Content(Render(await Summary(grains)), "text/html; charset=utf-8"));
    }

    private static Task<MetricsSummary> Summary(IGrainFactory grains) => grains.GetGrain<IMetricsGrain>(0).GetState();

    private static string Render(MetricsSummary summary)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"5\">")
            .Append("<title>OrleansDsm metrics</title><style>body{font-family:sans-serif}td,th{padding:2px 10px;text-align:right}")
            .Append("td:first-child,th:first-child{text-align:left}</style></head><body><h1>OrleansDsm metrics</h1>")
            .Append("<p>The whole cluster, from the reports of every silo and client (every few seconds). <a href=\"/dashboard\">Dashboard</a></p><table>");
        Row(html, "th", "cache hit rate", Percent(summary.CacheHitRate));
        Row(html, "th", "cache hits", Count(summary.Totals.CacheHits));
        Row(html, "th", "cache misses", Count(summary.Totals.CacheMisses));
        Row(html, "th", "cache evictions", Count(summary.Totals.CacheEvictions));
        Row(html, "th", "invalidations sent by pages", Count(summary.Totals.InvalidationsSent));
        Row(html, "th", "invalidations received by caches", Count(summary.Totals.InvalidationsReceived));
        Row(html, "th", "writes that waited for cache holders", Count(summary.Totals.WriterStalls));
        Row(html, "th", "mean writer stall", Milliseconds(summary.MeanWriterStallMilliseconds));
        Row(html, "th", "revocations unanswered within a lease", Count(summary.Totals.RevocationsUnanswered));
        Row(html, "th", "requests the direct channel served", Count(summary.Totals.DirectRequestsServed));
        Row(html, "th", "direct connections refused (TLS or hello)", Count(summary.Totals.DirectConnectionsRefused));
        Row(html, "th", "page storage writes", Count(summary.Totals.StorageWrites));
        Row(html, "th", "mean storage write", Milliseconds(summary.MeanStorageWriteMilliseconds));
        Row(html, "th", "longest storage write", Milliseconds(summary.Totals.StorageWrites > 0 ? summary.Totals.StorageWriteMaxMilliseconds : null));
        Row(html, "th", "page storage writes that failed", Count(summary.Totals.StorageWriteFailures));
        html.Append("</table><h2>Reporting now</h2><table><tr><th>process</th><th>reported (UTC)</th><th>hit rate</th><th>invalidations sent</th>")
            .Append("<th>storage writes</th><th>mean storage write</th><th>direct requests</th></tr>");
        foreach (var source in summary.Sources)
            Row(html, "td", source.Name, source.ReportedAt.ToString("HH:mm:ss", CultureInfo.InvariantCulture), Percent(source.Counters.CacheHitRate),
                Count(source.Counters.InvalidationsSent), Count(source.Counters.StorageWrites), Milliseconds(source.Counters.MeanStorageWriteMilliseconds),
                Count(source.Counters.DirectRequestsServed));
        return html.Append("</table></body></html>").ToString();
    }

    private static void Row(StringBuilder html, string firstCell, params string[] cells)
    {
        html.Append("<tr>");
        for (var i = 0; i < cells.Length; i++)
        {
            var tag = i == 0 ? firstCell : "td";
            html.Append('<').Append(tag).Append('>').Append(WebUtility.HtmlEncode(cells[i])).Append("</").Append(tag).Append('>');
        }
        html.Append("</tr>");
    }

    private static string Percent(double? rate) => rate is { } value ? value.ToString("P1", CultureInfo.InvariantCulture) : "-";

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Milliseconds(double? value) => value is { } ms ? ms.ToString("0.###", CultureInfo.InvariantCulture) + " ms" : "-";
}
