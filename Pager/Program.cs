using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using OrleansDsm;
using OrleansDsm.Connection;
using OrleansDsm.Mapping;
using OrleansDsm.Pager;

// The pager of one mapped region (see MappedRegion<T>): its settings come as one JSON line on standard input, then
// commands, one per line, each answered with one line; the end of its input (the client closed it, or died) stops it.
var settings = JsonSerializer.Deserialize<PagerSettings>(Console.ReadLine() ?? "")
               ?? throw new InvalidDataException("The pager expects its settings as one line of JSON on standard input.");
await using var client = await DsmClient.ConnectAsync(new DsmClientOptions
{
    Gateways = settings.Gateways,
    MembershipConnectionString = settings.MembershipConnectionString,
    ClusterId = settings.ClusterId,
    ServiceId = settings.ServiceId,
    TlsAuthority = settings.TlsAuthority is { } authority ? X509CertificateLoader.LoadCertificate(authority) : null,
    TlsCertificate = settings.TlsCertificate is { } certificate ? X509CertificateLoader.LoadPkcs12(certificate, settings.TlsCertificatePassword) : null,
    // The cache is how the pager learns which present pages others have written: it keeps a copy of each fetched page.
    CacheBytes = Math.Max(settings.ByteLength, 1L << 20) * 2,
    PrefetchPages = 0,
    ResponseTimeout = settings.FaultTimeout < TimeSpan.FromSeconds(10) ? settings.FaultTimeout : TimeSpan.FromSeconds(10),
    MetricsInterval = TimeSpan.Zero,
});
using var server = new FaultServer(settings, client.Grains, client.Cache!);
await server.WarmAsync();
server.Start();
Console.WriteLine("ready");
while (Console.ReadLine() is { } command)
{
    Console.WriteLine(command switch
    {
        "release" => await server.ReleaseAsync(),
        "acquire" => server.Acquire(),
        "stats" => server.Statistics(),
        _ => $"error \tthe pager knows release, acquire and stats, not '{command}'",
    });
}
