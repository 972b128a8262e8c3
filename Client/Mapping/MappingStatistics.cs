namespace OrleansDsm.Mapping;

/// <summary>What a mapping's pager has done since the region was mapped.</summary>
/// <param name="MissingFaults">Faults on pages not present, each served by fetching the page from the cluster.</param>
/// <param name="WriteFaults">First writes to present pages, each of which made the page dirty.</param>
/// <param name="PresentPages">Pages present in the mapping now.</param>
/// <param name="DirtyPages">Pages written since the last release.</param>
/// <param name="ReleasedPages">Dirty pages sent to the cluster by releases, in all.</param>
/// <param name="ReleasedBytes">Changed bytes those releases carried.</param>
/// <param name="DroppedPages">Present pages dropped by acquires, to be fetched afresh at their next touch.</param>
/// <param name="WritablePages">
/// Present pages left writable across releases because two releases in a row found them dirty: their stores take no
/// fault, and a release finds their changes by comparing them with their twins. Each is protected again once a run of
/// releases in a row finds it unchanged: 8 the first time, twice as many each time after, up to 512.
/// </param>
/// <param name="ReadAheadPages">Pages fetched ahead of a scan (<see cref="MappingOptions.ReadAheadPages"/>) and copied in.</param>
public sealed record MappingStatistics(
    long MissingFaults,
    long WriteFaults,
    long PresentPages,
    long DirtyPages,
    long ReleasedPages,
    long ReleasedBytes,
    long DroppedPages,
    long WritablePages,
    long ReadAheadPages);
