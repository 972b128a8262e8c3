using OrleansDsm.Regions;

namespace OrleansDsm.Backups;

/// <summary>
/// One backup run, on the silo that activates it: it reads pages straight from storage, inside one database snapshot,
/// never from any cache. Call <see cref="Begin"/>, then <see cref="Next"/> until it returns nothing, then
/// <see cref="End"/>. If the silo dies meanwhile, the run fails and must start again.
/// </summary>
public interface IBackupGrain : IGrainWithGuidKey
{
    /// <summary>Opens the storage snapshot and returns the live regions, read right after it opened.</summary>
    /// <exception cref="Errors.DsmException">This silo's storage cannot take a snapshot (memory storage, or pages through AdoNet).</exception>
    Task<IReadOnlyList<RegionDescriptor>> Begin();

    /// <summary>
    /// The next stored pages of the regions <see cref="Begin"/> returned, at most <paramref name="maxPages"/>, in page
    /// order; empty once every page has been returned. Pages never written are not returned: they read as zeros.
    /// </summary>
    /// <exception cref="Errors.CorruptPageException">A stored page is damaged.</exception>
    Task<BackupPage[]> Next(int maxPages);

    /// <summary>Closes the snapshot.</summary>
    Task End();
}

/// <summary>One stored page of a region: its index within the region and its bytes (one page, of the cluster's page size).</summary>
[GenerateSerializer, Immutable]
public sealed record BackupPage([property: Id(0)] string Region, [property: Id(1)] long PageIndex, [property: Id(2)] byte[] Bytes);
