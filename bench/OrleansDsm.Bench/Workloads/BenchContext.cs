using OrleansDsm.Bench.Harness;

namespace OrleansDsm.Bench.Workloads;

/// <summary>
/// What every workload needs: the DSM client, the raw Orleans client for the baselines, the report, and the PostgreSQL
/// targets of the durable figures (null when PostgreSQL is not installed), the bench silo's gateway for workloads
/// that run client programs of their own, the Redis peer (null when redis-server is not installed), and the bench
/// silo's process id (null when not given), for workloads that read what the silo's processor time went to.
/// </summary>
public sealed record BenchContext(DsmClient Dsm, IClusterClient Orleans, Report Report, bool Quick, DurableTargets? Durable, string Gateway, Baseline.RedisPeer? Redis,
    int? SiloProcessId)
{
    /// <summary>How each figure was obtained, for the report.</summary>
    public const string Setup = "storage=memory (in the silo, binary, write-behind 1 s as the product's memory default); silos=1; client process -> silo over loopback";

    /// <summary>Measured runs per figure: one in a quick run, which shows the figures in minutes, not their spread.</summary>
    public int Runs => Quick ? 1 : 5;
}
