namespace OrleansDsm.Pages;

/// <summary>What a page holds, for inspection (the dashboard and the <c>dsm</c> tool).</summary>
/// <param name="PageNumber">The page's number in the address space.</param>
/// <param name="Epoch">The allocation epoch of the stored bytes, or 0 when nothing is stored.</param>
/// <param name="Version">How many writes the page has applied in this epoch.</param>
/// <param name="Stored">Whether the page has stored state (a page never written has none).</param>
/// <param name="Checksum">CRC-32 of the page's bytes.</param>
/// <param name="FirstBytes">The first 16 bytes, in hexadecimal.</param>
/// <param name="BytesInUse">Bytes the page keeps for its allocation: the page size once written, 0 before.</param>
/// <param name="CacheHolders">Client sessions the page counts as holding a cached copy (each is revoked before a write).</param>
/// <param name="LastWriter">The client session whose mutation the page applied last, if it remembers one.</param>
/// <param name="Silo">The silo the page is active on (its address), as Orleans names it.</param>
/// <param name="DirectEndpoint">Where that silo takes direct connections, or null when it takes none: a client whose
/// requests for the page another silo had to pass on sends them there instead.</param>
[GenerateSerializer, Immutable]
public sealed record PageSummary(
    long PageNumber,
    long Epoch,
    long Version,
    bool Stored,
    uint Checksum,
    string FirstBytes,
    int BytesInUse,
    int CacheHolders,
    Guid? LastWriter,
    string Silo,
    Direct.DirectEndpoint? DirectEndpoint = null);
