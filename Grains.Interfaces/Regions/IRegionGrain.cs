namespace OrleansDsm.Regions;

/// <summary>
/// One allocation of a region, keyed by its epoch. It answers whether the allocation is still live, and records
/// which pages have stored state, so that freeing deletes exactly those rows and a 1 TiB region that was never
/// touched costs nothing to free.
/// <para>Only <see cref="GetState"/> takes no argument: the dashboard calls a grain's parameterless methods to show it,
/// so every method that acts names the epoch it is meant for, which the grain checks against its own.</para>
/// </summary>
public interface IRegionGrain : IGrainWithIntegerKey
{
    /// <summary>Records the allocation. Called by the directory before it hands the region out.</summary>
    Task Initialize(RegionExtent extent);

    /// <summary>The allocation's pages.</summary>
    /// <exception cref="RegionFreedException">The allocation was freed (or never existed).</exception>
    /// <exception cref="ArgumentException"><paramref name="epoch"/> is not this grain's.</exception>
    [AlwaysInterleave]
    Task<RegionExtent> GetExtent(long epoch);

    /// <summary>
    /// Durably records that <paramref name="page"/> is about to store state, or be cached, for this allocation.
    /// Returns only after the record is persisted, so a page's row can never exist without free knowing of it; returns
    /// whether the page had been recorded before (by an earlier activation of it, or an earlier call).
    /// </summary>
    /// <exception cref="RegionFreedException">The allocation was freed.</exception>
    Task<bool> RecordTouched(long page);

    /// <summary>
    /// How many pages of this allocation have been touched, and up to <paramref name="max"/> of them, ascending, from
    /// the first one after <paramref name="after"/>: what <c>dsm stat</c> pages through.
    /// </summary>
    /// <exception cref="RegionFreedException">The allocation was freed.</exception>
    [ReadOnly, AlwaysInterleave]
    Task<TouchedPages> GetTouchedPages(long after, int max);

    /// <summary>A summary for inspection: the dashboard shows it (its only parameterless method, as the dashboard asks).</summary>
    [ReadOnly, AlwaysInterleave]
    Task<RegionSummary> GetState();

    /// <summary>
    /// Marks the allocation freed, deletes the stored state of every touched page, and waits until no silo can still
    /// believe the allocation live. Idempotent: a free interrupted by a crash is completed by calling again.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="epoch"/> is not this grain's.</exception>
    Task Free(long epoch);
}
