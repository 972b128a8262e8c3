namespace OrleansDsm.Regions;

/// <summary>
/// The cluster's one region directory (key 0): it records the page size, hands out page-aligned address ranges,
/// keeps the catalogue of named regions and enforces the quota. Its state is persisted.
/// </summary>
public interface IRegionDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>Records the cluster's page size the first time; afterwards refuses any other size.</summary>
    /// <exception cref="PageSizeMismatchException">The cluster already uses another page size.</exception>
    Task EnsurePageSize(int pageSize);

    /// <summary>Allocates a new region, and returns it with its owner token.</summary>
    /// <exception cref="RegionExistsException">The name is taken.</exception>
    /// <exception cref="QuotaExceededException">The allocation would exceed the quota.</exception>
    /// <exception cref="ArgumentException">The request is malformed (name, sizes, count).</exception>
    Task<RegionAllocation> Allocate(AllocationRequest request);

    /// <summary>
    /// Returns the region named in the request, allocating it first if there is none; the owner token comes only
    /// with an allocation.
    /// </summary>
    /// <exception cref="RegionMismatchException">A region of that name exists with another type or length.</exception>
    Task<RegionAllocation> OpenOrCreate(AllocationRequest request);

    /// <summary>Returns the live region named <paramref name="name"/>.</summary>
    /// <exception cref="RegionNotFoundException">There is none.</exception>
    Task<RegionDescriptor> Open(string name);

    /// <summary>Returns the live region whose elements contain <paramref name="address"/>.</summary>
    /// <exception cref="RegionNotFoundException">No live region contains that address.</exception>
    Task<RegionDescriptor> Find(Addressing.GlobalAddress address);

    /// <summary>
    /// Frees the region: its name is released at once, durably; then its pages' stored state is deleted, every handle
    /// to it fails, and its address range becomes reusable. Returns once that release is done, or after
    /// <paramref name="wait"/> while it goes on (<see cref="FreeProgress.Released"/> false; see
    /// <see cref="WaitReleased"/>): a region of many written pages takes longer to release than one call may last.
    /// A release the database fails is tried again every few seconds until it ends.
    /// Needs the owner token its allocation returned, or the cluster's admin token (<c>Dsm:AdminToken</c>).
    /// With <paramref name="epoch"/> other than 0, frees only the allocation of that epoch, and answers as for a free
    /// just made when that allocation is freed already: so a free can be sent again when its answer did not come
    /// (one that applied is not applied twice, and a region given the name since is left alone).
    /// </summary>
    /// <exception cref="RegionNotFoundException">There is no live region of that name (and epoch), nor was there one of that epoch.</exception>
    /// <exception cref="StorageUnavailableException">
    /// The free could not be stored. It stands all the same (the name is gone), and is stored and released once the
    /// database answers; if the directory's silo stops before that, the region stays allocated.
    /// </exception>
    /// <exception cref="AccessDeniedException">The token is neither the region's owner token nor the admin token.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="wait"/> is below zero or above a minute; nothing changed.</exception>
    Task<FreeProgress> Free(string name, string? token, TimeSpan wait, long epoch = 0);

    /// <summary>
    /// Waits up to <paramref name="wait"/> for the release of the region of allocation <paramref name="epoch"/> that
    /// <see cref="Free"/> began; true once it is done (at once when no such release is going on). A release that failed
    /// is tried again at once.
    /// </summary>
    /// <exception cref="StorageUnavailableException">The release failed again; the cluster goes on trying it.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="wait"/> is below zero or above a minute.</exception>
    Task<bool> WaitReleased(long epoch, TimeSpan wait);

    /// <summary>A summary for inspection and for listing regions.</summary>
    [ReadOnly]
    Task<RegionDirectorySummary> GetState();
}
