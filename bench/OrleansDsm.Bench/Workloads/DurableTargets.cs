namespace OrleansDsm.Bench.Workloads;

/// <summary>
/// Where the durable figures are measured: a silo per page store on one PostgreSQL database, the database itself, the
/// pgbench that measures the database's own floor, and the process id of the batched store's silo, whose memory is read.
/// </summary>
public sealed record DurableTargets(string BatchedGateway, string AdoNetGateway, string Database, string Pgbench, int BatchedSilo);
