using System.Security.Cryptography;
using System.Text;

namespace OrleansDsm.Silo.Hosting;

/// <summary>
/// HTTP Basic authentication in front of the dashboard (and the metrics page beside it) when it has a password. The health endpoint stays open for
/// load balancers and probes. Basic sends the password in every request, so a dashboard reachable from other machines
/// belongs behind TLS (a proxy), as docs/security.md says.
/// </summary>
internal static class DashboardLogin
{
    public static void Require(WebApplication app, string user, string password)
    {
        var expected = SHA256.HashData(Encoding.UTF8.GetBytes($"{user}:{password}"));
        app.Use(async (context, next) =>
        {
            if ((context.Request.Path.StartsWithSegments("/dashboard") || context.Request.Path.StartsWithSegments(MetricsPage.Root)) && !Presents(context.Request.Headers.Authorization.ToString(), expected))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"OrleansDsm dashboard\", charset=\"UTF-8\"";
                return;
            }
            await next();
        });
    }

    /// <summary>Whether the Authorization header carries the user and password; compared in fixed time, through hashes of equal length.</summary>
    private static bool Presents(string header, byte[] expected)
    {
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return false;
        try
        {
            var given = Convert.FromBase64String(header["Basic ".Length..].Trim());
            return CryptographicOperations.FixedTimeEquals(SHA256.HashData(given), expected);
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
