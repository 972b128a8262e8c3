using System.Net;
using System.Text.Json;
using OrleansDsm.Connection;

namespace OrleansDsm.Tests.Processes;

/// <summary>The real silo serves the cluster's DSM metrics beside its dashboard, as a page and as JSON.</summary>
public sealed class MetricsPageTests
{
    [Fact]
    public async Task The_metrics_page_beside_the_dashboard_shows_the_clients_hit_rate_and_the_silos_storage_writes()
    {
        await using var silo = await SiloProcess.StartAsync("--Dsm:MetricsInterval=00:00:00.200");
        await using var client = await DsmClient.ConnectAsync(new DsmClientOptions { Gateways = [silo.Gateway], MetricsInterval = TimeSpan.FromMilliseconds(200) });
        var array = await client.AllocateAsync<int>(UniqueNames.For("metrics-page"), 4096);
        await array.WriteAsync(0, Enumerable.Range(0, 4096).ToArray());
        for (var i = 0; i < 1000; i++) await array.GetAsync(i);
        using var http = new HttpClient { BaseAddress = new Uri($"http://localhost:{silo.HttpPort}") };

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        JsonElement totals;
        while (true)
        {
            using var json = JsonDocument.Parse(await http.GetStringAsync("/dsm/metrics.json"));
            totals = json.RootElement.GetProperty("totals").Clone();
            if (totals.GetProperty("cacheHits").GetInt64() >= 900 && totals.GetProperty("storageWrites").GetInt64() >= 4) break;
            Assert.True(DateTime.UtcNow < deadline, $"the metrics never showed the reads and writes: {json.RootElement}");
            await Task.Delay(100);
        }
        Assert.InRange(totals.GetProperty("cacheHitRate").GetDouble(), 0.9, 1.0);
        Assert.True(totals.GetProperty("storageWriteMilliseconds").GetDouble() > 0);

        var page = await http.GetAsync("/dsm/metrics");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<td>cache hit rate</td>", html.Replace("<th>", "<td>").Replace("</th>", "</td>"));
        Assert.Contains("<th>page storage writes that failed</th><td>0</td>", html);
        Assert.Contains($"client {client.CacheSession}", html);
        Assert.Contains("silo ", html);
    }
}
