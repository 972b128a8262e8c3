using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace OrleansDsm.Tests.Processes;

/// <summary>
/// A dashboard with a password (from a file, never the command line) answers only requests that present it; the
/// health endpoint stays open. Run against the real silo program.
/// </summary>
public sealed class DashboardLoginTests
{
    [Fact]
    public async Task A_dashboard_with_a_password_refuses_requests_without_it_and_so_does_the_metrics_page_while_health_stays_open()
    {
        var passwordFile = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(passwordFile, "correct horse battery\n");
            await using var silo = await SiloProcess.StartAsync($"--Silo:DashboardPasswordFile={passwordFile}");
            Assert.Contains("(user admin, password)", silo.Output);
            using var http = new HttpClient { BaseAddress = new Uri($"http://localhost:{silo.HttpPort}") };

            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/dashboard/")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(http, "/dashboard/", "admin", "wrong")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(http, "/dashboard/", "root", "correct horse battery")).StatusCode);
            var allowed = await SendAsync(http, "/dashboard/", "admin", "correct horse battery");
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
            Assert.Contains("<html", await allowed.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/dsm/metrics")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/dsm/metrics.json")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, "/dsm/metrics.json", "admin", "correct horse battery")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health")).StatusCode);
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, string path, string user, string password)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        return http.SendAsync(request);
    }
}
