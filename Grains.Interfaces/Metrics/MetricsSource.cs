namespace OrleansDsm.Metrics;

/// <summary>One process's last report: who it is, when it reported, and its counters.</summary>
/// <param name="Name">"silo ADDRESS" or "client SESSION".</param>
/// <param name="ReportedAt">When the report arrived (UTC).</param>
/// <param name="Counters">Its counters since it started.</param>
[GenerateSerializer, Immutable]
public sealed record MetricsSource(string Name, DateTime ReportedAt, MetricsSample Counters);
