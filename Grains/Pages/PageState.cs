namespace OrleansDsm.Grains.Pages;

/// <summary>The stored form of a page: its bytes and the allocation they belong to.</summary>
[GenerateSerializer]
internal sealed class PageState
{
    /// <summary>The allocation epoch of the region the bytes were written for.</summary>
    [Id(0)]
    public long Epoch { get; set; }

    /// <summary>How many writes have been applied in this epoch.</summary>
    [Id(1)]
    public long Version { get; set; }

    /// <summary>Exactly one page of bytes, or empty while nothing is stored.</summary>
    [Id(2)]
    public byte[] Bytes { get; set; } = [];

    /// <summary>
    /// Whether an activation may have granted cache leases that no one revoked: set before the first fill of an
    /// activation, cleared by a graceful deactivation once every copy is revoked. Found set by a new activation, it
    /// means the last one crashed, and writes wait out one cache lease.
    /// </summary>
    [Id(3)]
    public bool LeasesMayBeOut { get; set; }
}
