using System.Net;
using Orleans.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansDsm.Grains.Hosting;
using OrleansDsm.Silo.Hosting;

namespace OrleansDsm.Bench.Hosting;

/// <summary>
/// A silo like the product's default (localhost clustering, binary in-memory storage in the silo written behind, inline
/// socket completions, server GC with the product's DATAS target: bench/run.sh turns server GC on), without the
/// dashboard, which profiles every call, and with the baseline grains beside the DSM's. A second silo joins the first
/// through <paramref name="primarySiloPort"/>; <paramref name="moves"/> turns on Orleans' activation repartitioning or
/// the activation rebalancer (the product's <c>Silo:Rebalance</c>), each timed so that a short run sees it work, and
/// <paramref name="pagePlacement"/> is the product's <c>Dsm:PagePlacement</c>.
/// </summary>
public static class BenchSilo
{
    /// <summary>The cluster of the bench silo, alone in it; a placement workload's two silos name theirs.</summary>
    public const string AloneCluster = "default";

    public static async Task<int> RunAsync(int siloPort, int gatewayPort, string cluster = AloneCluster, int? primarySiloPort = null, ActivationMoves moves = ActivationMoves.None,
        string pagePlacement = "Balanced")
    {
        // As the product's silo does, before its first socket.
        InlineSocketCompletions.EnableUnlessSet();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleans(silo =>
        {
            // The bench silo keeps Orleans' default ids ("default"), which the bench client and the sample it runs name;
            // the silos of a placement workload's cluster are named by it.
            silo.UseLocalhostClustering(siloPort, gatewayPort, primarySiloPort is { } primary ? new IPEndPoint(IPAddress.Loopback, primary) : null,
                serviceId: cluster, clusterId: cluster);
            if (moves == ActivationMoves.Repartition)
            {
#pragma warning disable ORLEANSEXP001 // experimental in Orleans 10: measured here, not used by the product
                silo.AddActivationRepartitioner();
#pragma warning restore ORLEANSEXP001
                silo.Configure<ActivationRepartitionerOptions>(options =>
                    (options.MinRoundPeriod, options.MaxRoundPeriod, options.RecoveryPeriod) = (TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(2)));
            }
            if (moves == ActivationMoves.Rebalance)
            {
#pragma warning disable ORLEANSEXP002 // experimental in Orleans 10: the product's opt-in Silo:Rebalance
                silo.AddActivationRebalancer();
#pragma warning restore ORLEANSEXP002
                // As RebalancingTests time it: the first session 2 s after start, cycles every 2 s, moving as fast as Orleans allows.
                silo.Configure<ActivationRebalancerOptions>(options =>
                    (options.RebalancerDueTime, options.SessionCyclePeriod, options.CycleNumberWeight) = (TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2), 1));
            }
            // The product's memory mode keeps a one-silo cluster's states in the silo; two silos share Orleans' storage grains.
            if (cluster == AloneCluster)
            {
                silo.AddSiloMemoryStorage(StorageNames.Pages);
                silo.AddSiloMemoryStorage(StorageNames.Regions);
            }
            else
            {
                silo.AddBinaryMemoryStorage(StorageNames.Pages);
                silo.AddBinaryMemoryStorage(StorageNames.Regions);
            }
            silo.AddSharedMemory(options => options.Configure(space => (space.WriteBehind, space.PagePlacement) = (SiloComposition.MemoryWriteBehind, pagePlacement)));
        });
        using var host = builder.Build();
        await host.StartAsync();
        Console.WriteLine("bench silo ready");
        await host.WaitForShutdownAsync();
        return 0;
    }
}

/// <summary>Which of Orleans' mechanisms, if any, moves activations between the bench cluster's silos.</summary>
public enum ActivationMoves
{
    /// <summary>None: an activation stays where it started until it deactivates.</summary>
    None,

    /// <summary>Activation repartitioning: toward the silo that calls an activation most.</summary>
    Repartition,

    /// <summary>The activation rebalancer: toward equal activation counts on every silo.</summary>
    Rebalance,
}
