using OrleansDsm.Regions;

namespace OrleansDsm.Backups;

/// <summary>
/// One backup run, on the silo that activates it: it reads pages straight from storage, inside one database snapshot,
/// never from any cache. Call <see cref="Begin"/>, then <see cref="Next"/> until it returns nothing, then
/// <see cref="End"/>. If the silo dies meanwhile, the run fails and must start again.
/// <para>The dashboard calls a grain's parameterless methods to show it, so the two that open and close the snapshot
/// name the run they are meant for, which the grain checks against its key.</para>
/// </summary>
public interface IBackupGrain : IGrainWithGuidKey
{
    /// <summary>Opens the storage snapshot and returns the live regions, read right after it opened.</summary>
    /// <exception cref="Errors.DsmException">This silo's storage cannot take a snapshot (memory storage, or pages through AdoNet).</exception>
    /// <exception cref="ArgumentException"><paramref name="run"/> is not this grain's key.</exception>
    Task<IReadOnlyList<RegionDescriptor>> Begin(Guid run);

    /// <summary>
    /// The next stored pages of the regions <see cref="Begin"/> returned, at most <paramref name="maxPages"/>, in page
    /// order; empty once every page has been returned. Pages never written are not returned: they read as zeros.
    /// </summary>
    /// <exception cref="Errors.CorruptPageException">A stored page is damaged.</exception>
    Task<BackupPage[]> Next(int maxPages);

    /// <summary>Closes the snapshot.</summary>
    /// <exception cref="ArgumentException"><paramref name="run"/> is not this grain's key.</exception>
    Task End(Guid run);
}

/// <summary>One stored page of a region: its index within the region and its bytes (one page, of the cluster's page size).</summary>
[GenerateSerializer, Immutable]
public sealed record BackupPage([property: Id(0)] string Region, [property: Id(1)] long PageIndex, [property: Id(2)] byte[] Bytes);
