namespace OrleansDsm.Bench.Workloads;

/// <summary>
/// Where the durable figures are measured: a silo per page store on one PostgreSQL database, the database itself, and
/// the pgbench that measures the database's own floor.
/// </summary>
public sealed record DurableTargets(string BatchedGateway, string AdoNetGateway, string Database, string Pgbench);
