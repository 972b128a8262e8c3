namespace OrleansDsm.Mapping;

/// <summary>How a region is mapped (<see cref="Arrays.SharedArray{T}.MapAsync"/>).</summary>
public sealed class MappingOptions
{
    /// <summary>
    /// How long a page fault may wait for the cluster. A load cannot fail, so past it the pager reports the cause on
    /// standard error and kills the process rather than let it run on without the page.
    /// </summary>
    public TimeSpan FaultTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many pages the pager fetches ahead of a scan, 0 (the default) for none. After two faults in a row on
    /// consecutive pages, or a fault on the page just past the stretch it read ahead last, it fetches the next this many
    /// pages that are not present as well, all at once, and copies them in as a fault would, so a scan in order waits
    /// for one fetch per stretch. Pages read ahead are present like fetched ones (an acquire drops them when another
    /// process wrote them) and take memory whether or not the program touches them. One whose fetch fails before a
    /// thread touches it is dropped (the touch then faults as any other), since nothing waited for it. At most 256.
    /// </summary>
    public int ReadAheadPages { get; set; }
}
