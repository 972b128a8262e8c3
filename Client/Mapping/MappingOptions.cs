namespace OrleansDsm.Mapping;

/// <summary>How a region is mapped (<see cref="Arrays.SharedArray{T}.MapAsync"/>).</summary>
public sealed class MappingOptions
{
    /// <summary>
    /// How long a page fault may wait for the cluster. A load cannot fail, so past it the pager reports the cause on
    /// standard error and kills the process rather than let it run on without the page.
    /// </summary>
    public TimeSpan FaultTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
