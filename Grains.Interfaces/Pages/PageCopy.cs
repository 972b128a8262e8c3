using OrleansDsm.Caching;

namespace OrleansDsm.Pages;

/// <summary>A page's bytes as a cache fill returns them, with what a client needs to keep them coherent.</summary>
/// <param name="Version">The page's version in its region's epoch; 0 for a page never written.</param>
/// <param name="Bytes">
/// The whole page, or null when it reads as zeros. Shared and never to be changed: a caller in the silo that holds the
/// page gets the page's committed image itself.
/// </param>
/// <param name="Lease">The session lease that covers the copy, on the silo that holds the page now.</param>
[GenerateSerializer, Immutable]
public sealed record PageCopy(long Version, byte[]? Bytes, LeaseGrant Lease);
