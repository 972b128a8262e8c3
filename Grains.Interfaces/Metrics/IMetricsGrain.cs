namespace OrleansDsm.Metrics;

/// <summary>
/// The cluster's DSM metrics (key 0): every silo and client reports its counters every few seconds, and the dashboard
/// shows <see cref="GetState"/> under Grain Details, as does the silo's <c>/dsm/metrics</c> page. Kept in memory: if
/// its silo stops, the totals start again from the next reports.
/// </summary>
public interface IMetricsGrain : IGrainWithIntegerKey
{
    /// <summary>Records <paramref name="counters"/> as the latest of <paramref name="source"/>, replacing its last report.</summary>
    /// <exception cref="ArgumentException">The source name is empty or longer than 200 characters, or a counter is negative.</exception>
    Task Report(string source, MetricsSample counters);

    /// <summary>The cluster's totals and rates, and the processes reporting now.</summary>
    [ReadOnly]
    Task<MetricsSummary> GetState();
}
