using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Orleans.TestingHost;
using OrleansDsm.Connection;
using OrleansDsm.Grains.Hosting;
using OrleansDsm.Silo.Hosting;

namespace OrleansDsm.Tests.Fixtures;

/// <summary>
/// A two-silo cluster in the test process, on real in-memory storage, shared by the tests of one collection. The
/// quota is 4 TiB so that a 1 TiB region fits and an 8 TiB one does not; the region and cache leases are short so frees
/// and stalls are quick; an admin token is set. Every call a page grain receives is counted, by method. Its client
/// makes Orleans calls only (no direct channel).
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const long QuotaBytes = 4L << 40;

    public static readonly TimeSpan CacheLease = TimeSpan.FromMilliseconds(500);

    /// <summary>The cluster's admin token, which frees any region.</summary>
    public const string AdminToken = "test-cluster-admin-token";

    private static readonly ConcurrentDictionary<string, long> PageCallCounts = new();

    /// <summary>How many calls page grains have received, by method, across all silos.</summary>
    public static long PageCalls(params string[] methods) => methods.Sum(method => PageCallCounts.GetValueOrDefault(method));

    private static readonly ConcurrentDictionary<(string Method, long Page), long> PageCallCountsByPage = new();

    /// <summary>
    /// How many calls <paramref name="pages"/> have received, by method, across all silos: unlike
    /// <see cref="PageCalls"/>, blind to what earlier tests' clients still do in the background to their own pages.
    /// </summary>
    public static long PageCallsOn(IEnumerable<long> pages, params string[] methods) =>
        pages.Sum(page => methods.Sum(method => PageCallCountsByPage.GetValueOrDefault((method, page))));

    private static readonly ConcurrentDictionary<string, byte> PageRowSet = new();

    private static readonly ConcurrentDictionary<string, int> ResponsesToLose = new();

    /// <summary>
    /// Makes the next <paramref name="count"/> calls of page or region directory method <paramref name="method"/> from
    /// this test process reach their grain and run, and then fail with a timeout, as if the response were lost.
    /// </summary>
    public static void LoseResponses(string method, int count) => ResponsesToLose[method] = count;

    private static bool TakeLostResponse(string method)
    {
        while (ResponsesToLose.TryGetValue(method, out var left) && left > 0)
            if (ResponsesToLose.TryUpdate(method, left - 1, left)) return true;
        return false;
    }

    private static readonly ConcurrentDictionary<string, int> ResponsesToCancel = new();

    /// <summary>
    /// Makes the next <paramref name="count"/> calls of page method <paramref name="method"/> from this test process run
    /// and then fail with an <see cref="OperationCanceledException"/> the caller did not ask for, as a silo's cancelled
    /// directory lookup during a membership change reports.
    /// </summary>
    public static void CancelResponses(string method, int count) => ResponsesToCancel[method] = count;

    private static bool TakeCancelledResponse(string method)
    {
        while (ResponsesToCancel.TryGetValue(method, out var left) && left > 0)
            if (ResponsesToCancel.TryUpdate(method, left - 1, left)) return true;
        return false;
    }

    /// <summary>How many responses of <paramref name="method"/> are still to be lost.</summary>
    public static int ResponsesStillToLose(string method) => ResponsesToLose.GetValueOrDefault(method);

    /// <summary>Cache sessions whose lease renewals every silo refuses, as if the network lost them.</summary>
    public static readonly ConcurrentDictionary<Guid, byte> RenewalsRefused = new();

    /// <summary>
    /// Cache sessions whose fill calls wait at the silo, before their page runs them, until the given task completes:
    /// a test holds a fill in flight for as long as it needs to.
    /// </summary>
    public static readonly ConcurrentDictionary<Guid, Task> FillsHeld = new();

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public DsmClient Client { get; private set; } = null!;

    /// <summary>How many page records storage holds right now, across all silos.</summary>
    public int PageRows => PageRowSet.Count;

    /// <summary>The writes of page storage, across all silos: counted, and slowed or failed when a test asks.</summary>
    public static StorageTap PageWrites { get; } = new();

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddBinaryMemoryStorage(StorageNames.Regions);
            silo.AddBinaryMemoryStorage(StorageNames.Pages + "-inner");
            silo.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.Pages, (services, _) =>
                new RowCountingStorage(services.GetRequiredKeyedService<IGrainStorage>(StorageNames.Pages + "-inner"), PageRowSet, PageWrites));
            silo.AddSharedMemory(options => options.Configure(space =>
            {
                space.QuotaBytes = QuotaBytes;
                space.RegionLease = TimeSpan.FromMilliseconds(100);
                space.CacheLease = CacheLease;
                space.AdminToken = AdminToken;
                space.MetricsInterval = TimeSpan.FromMilliseconds(300);
            }));
            silo.AddIncomingGrainCallFilter(async call =>
            {
                if (call.InterfaceMethod?.DeclaringType == typeof(OrleansDsm.Pages.IPageGrain))
                {
                    PageCallCounts.AddOrUpdate(call.InterfaceMethod.Name, 1, (_, count) => count + 1);
                    PageCallCountsByPage.AddOrUpdate((call.InterfaceMethod.Name, call.TargetId.GetIntegerKey()), 1, (_, count) => count + 1);
                    if (call.InterfaceMethod.Name == nameof(OrleansDsm.Pages.IPageGrain.Renew) && RenewalsRefused.ContainsKey((Guid)call.Request.GetArgument(0)!))
                        throw new TimeoutException("The test refused this session's renewal.");
                    if (call.InterfaceMethod.Name == nameof(OrleansDsm.Pages.IPageGrain.Fill) && FillsHeld.TryGetValue((Guid)call.Request.GetArgument(1)!, out var held))
                        await held;
                }
                await call.Invoke();
            });
        });
        builder.ConfigureClient(client => client.AddOutgoingGrainCallFilter(async call =>
        {
            await call.Invoke();
            if ((call.InterfaceMethod?.DeclaringType == typeof(OrleansDsm.Pages.IPageGrain) || call.InterfaceMethod?.DeclaringType == typeof(IRegionDirectoryGrain))
                && TakeLostResponse(call.InterfaceMethod.Name))
                throw new TimeoutException($"The test lost the response of {call.InterfaceMethod.Name}.");
            if (call.InterfaceMethod?.DeclaringType == typeof(OrleansDsm.Pages.IPageGrain) && TakeCancelledResponse(call.InterfaceMethod.Name))
                throw new OperationCanceledException($"The test cancelled the response of {call.InterfaceMethod.Name}.");
        }));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        // The shared client makes every page request an Orleans call, which the tests of calls count, lose and cancel;
        // the direct channel's tests make clients of their own.
        Client = new DsmClient(Cluster.Client, new DsmClientOptions { DirectChannel = false });
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
