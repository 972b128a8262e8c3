namespace OrleansDsm.Regions;

/// <summary>One allocation as its grain sees it, for inspection (the dashboard).</summary>
/// <param name="Epoch">The allocation epoch, the grain's key.</param>
/// <param name="FirstPage">The allocation's first page in the address space.</param>
/// <param name="PageCount">How many pages it spans.</param>
/// <param name="PagesTouched">How many of them have been written or cached.</param>
/// <param name="Freed">Whether it has been freed (its pages are being, or have been, deleted).</param>
[GenerateSerializer, Immutable]
public sealed record RegionSummary(long Epoch, long FirstPage, long PageCount, long PagesTouched, bool Freed);
