using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Dashboard;
using OrleansDsm.Grains.Hosting;
using OrleansDsm.Grains.Pages;
using OrleansDsm.Database;
using OrleansDsm.Silo.Hosting;

// Before anything opens a socket (the schema check below does): the runtime reads the switch once.
InlineSocketCompletions.EnableUnlessSet();
var builder = WebApplication.CreateBuilder(args);
SiloHostOptions host;
AddressSpaceOptions space;
try
{
    host = builder.Configuration.GetSection("Silo").Get<SiloHostOptions>() ?? new SiloHostOptions();
    // Checked here as well as when the host starts, so that a bad Dsm setting is one line, not the host's failure.
    space = builder.Configuration.GetSection("Dsm").Get<AddressSpaceOptions>() ?? new AddressSpaceOptions();
    // Orleans' own options under Silo: bound here only to find values that do not convert, which Orleans binds late.
    builder.Configuration.GetSection("Silo:Membership").Get<ClusterMembershipOptions>();
    builder.Configuration.GetSection("Silo:Rebalancing").Get<ActivationRebalancerOptions>();
}
catch (InvalidOperationException error)
{
    // The binder's own message names the setting, its value and the type it wants; the inner ones name only the value.
    return Fail($"invalid configuration: {error.Message}");
}
if (host.Problems().Concat(space.Problems()).ToList() is [_, ..] problems) return Fail("invalid configuration: " + string.Join(" ", problems));
if (ConnectionPasswords.Holds(new ConfigurationBuilder().AddCommandLine(args).Build()["Silo:ConnectionString"]))
    return Fail("invalid configuration: " + ConnectionPasswords.CommandLineRefusal("Silo:ConnectionString on the command line"));
// Before the schema is applied: a silo that cannot listen changes nothing.
if (PortsInUse.Problems(host, space) is [_, ..] taken) return Fail("cannot listen: " + string.Join(" ", taken));

if (host.IsPostgreSql)
{
    try
    {
        if (host.ApplySchema) await DatabaseSchema.ApplyAsync(host.ConnectionString!);
        else await DatabaseSchema.RequireCurrentAsync(host.ConnectionString!);
    }
    catch (Exception error) when (error is Npgsql.NpgsqlException or SchemaMismatchException or ArgumentException)
    {
        return Fail($"PostgreSQL schema: {error.Message}");
    }
}

SiloTls? tls;
try
{
    tls = SiloTls.Load(host);
}
catch (Exception error) when (error is System.Security.Cryptography.CryptographicException or IOException)
{
    return Fail($"TLS: {error.Message}");
}

builder.WebHost.UseUrls($"http://{host.HttpAddress}:{host.HttpPort}");
builder.AddSharedMemorySilo(host, tls);
var app = builder.Build();
if (host.Dashboard && host.ReadDashboardPassword() is { } password) DashboardLogin.Require(app, host.DashboardUser, password);
if (host.Dashboard)
{
    app.MapOrleansDashboard(routePrefix: "/dashboard");
    MetricsPage.Map(app);
}
app.MapHealthChecks("/health");

try
{
    await app.StartAsync();
}
catch (Exception error)
{
    return Fail(SiloComposition.StartupFailure(error));
}
Console.WriteLine(SiloComposition.Banner(host, app.Services.GetRequiredService<IOptions<AddressSpaceOptions>>().Value, tls,
    app.Services.GetRequiredService<OrleansDsm.Grains.Direct.DirectListener>().Endpoint));
var stopping = new System.Diagnostics.Stopwatch();
app.Lifetime.ApplicationStopping.Register(stopping.Start);
await app.WaitForShutdownAsync();
var losses = app.Services.GetRequiredService<UnstoredWriteLosses>();
// Memory storage ends with the process, stored or not.
var lost = host.IsPostgreSql ? losses.Pages : 0;
Console.WriteLine(SiloComposition.Farewell(host, stopping.Elapsed, lost, losses.LastRefusal));
// A stop that lost acknowledged writes is a failure a service manager should see.
return lost > 0 ? 1 : 0;

static int Fail(string message)
{
    Console.Error.WriteLine($"orleans-dsm silo: {message}");
    return 2;
}
