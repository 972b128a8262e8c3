using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using OrleansDsm;
using OrleansDsm.Connection;
using OrleansDsm.Mapping;
using OrleansDsm.Pager;

// The pager of one client's mappings (see MappedRegion<T>): how to reach the cluster comes as one JSON line on standard
// input, then commands, one per line, each answered with one line; the end of its input (the client closed it, or
// died) stops it. Started by a pager as its watcher ("watch PID"; see ClientLifeline), it only watches.
if (args is [ClientLifeline.WatchArgument, var watched]) return ClientLifeline.Watch(int.Parse(watched, System.Globalization.CultureInfo.InvariantCulture));
if (await ConnectOrReportAsync() is not ({ } connection, { } client)) return 1;
await using var connected = client;
using var descriptors = new ClientDescriptors(connection.ClientProcessId);
using var lifeline = new ClientLifeline(connection.ClientProcessId);
var mappings = new Dictionary<int, FaultServer>();
var requests = new OrleansDsm.Connection.RequestIds(client.Cache!.Session);
Console.WriteLine("ready");
while (Console.ReadLine() is { } line)
{
    var space = line.IndexOf(' ');
    var (verb, rest) = space < 0 ? (line, "") : (line[..space], line[(space + 1)..]);
    string answer;
    try
    {
        answer = verb switch
        {
            "map" => await MapAsync(JsonSerializer.Deserialize<MappingSettings>(rest)!),
            "release" => await Mapping(rest).ReleaseAsync(),
            "acquire" => Mapping(rest).Acquire(),
            "stats" => Mapping(rest).Statistics(),
            "unmap" => Unmap(rest),
            _ => $"error \tthe pager knows map, release, acquire, stats and unmap, not '{verb}'",
        };
    }
    catch (Exception error)
    {
        answer = Refusal(error);
    }
    Console.WriteLine(answer);
}
// The client closed this input (or ended): its faults are no longer this pager's to serve, so the watcher stands down
// first, before anything here can stall on the way out and be killed by the client's impatience.
lifeline.Disarm();
foreach (var mapping in mappings.Values) mapping.Dispose();
return 0;

async Task<string> MapAsync(MappingSettings settings)
{
    var server = new FaultServer(settings, descriptors.Take(settings.UserfaultFd), descriptors.Take(settings.MemoryFd), lifeline,
        client.Grains, client.Cache!, requests, client.GatewayLoss);
    try
    {
        await server.WarmAsync();
    }
    catch
    {
        server.Dispose();
        throw;
    }
    server.Start();
    mappings[settings.Id] = server;
    lifeline.Arm();
    return "ok";
}

FaultServer Mapping(string id) =>
    mappings.TryGetValue(int.Parse(id, System.Globalization.CultureInfo.InvariantCulture), out var server)
        ? server
        : throw new ArgumentException($"There is no mapping {id}.");

string Unmap(string id)
{
    var server = Mapping(id);
    mappings.Remove(int.Parse(id, System.Globalization.CultureInfo.InvariantCulture));
    server.Dispose();
    if (mappings.Count == 0) lifeline.Disarm();
    return "ok";
}

// Reads how to reach the cluster and connects. A failure is answered in place of "ready", on standard output, so that
// the client can put it in the error it raises (standard error reaches only its process's console).
async Task<(PagerConnection Connection, DsmClient Client)?> ConnectOrReportAsync()
{
    try
    {
        var connection = JsonSerializer.Deserialize<PagerConnection>(Console.ReadLine() ?? "null")
                         ?? throw new InvalidDataException("The pager expects its connection as one line of JSON on standard input.");
        var client = await DsmClient.ConnectAsync(new DsmClientOptions
        {
            Gateways = connection.Gateways,
            MembershipConnectionString = connection.MembershipConnectionString,
            ClusterId = connection.ClusterId,
            ServiceId = connection.ServiceId,
            TlsAuthority = connection.TlsAuthority is { } authority ? X509CertificateLoader.LoadCertificate(authority) : null,
            TlsCertificate = connection.TlsCertificate is { } certificate ? X509CertificateLoader.LoadPkcs12(certificate, connection.TlsCertificatePassword) : null,
            // The cache is how the pager learns which present pages others have written: it tracks each fetched page,
            // without its bytes, which live in the mapping.
            CacheBytes = long.MaxValue / 4,
            CacheKeepsBytes = false,
            // A fill's caller copies the page in and returns: resumed where the reply arrives, a fault waits for one
            // thread's wake-up less.
            ResumeFillsOnReceivingThread = true,
            PrefetchPages = 0,
            MetricsInterval = TimeSpan.Zero,
        });
        return (connection, client);
    }
    catch (Exception error)
    {
        Console.WriteLine(Refusal(error));
        return null;
    }
}

// An answer that refuses: "error", the exception's type name, a tab and its message on one line.
static string Refusal(Exception error) => $"error {error.GetType().Name}\t{error.Message.ReplaceLineEndings(" ")}";
