namespace OrleansDsm.Grains.Hosting;

/// <summary>The names of the grain storage providers a silo must register.</summary>
public static class StorageNames
{
    /// <summary>Holds page bytes: one record per page that has ever been written in its region's lifetime.</summary>
    public const string Pages = "dsm-pages";

    /// <summary>Holds the region directory, the per-allocation region records, and the locks' fencing tokens.</summary>
    public const string Regions = "dsm-regions";
}
