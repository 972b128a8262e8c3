namespace OrleansDsm.Regions;

/// <summary>
/// What an allocation returns: the region, and the owner token that frees it. The token is given out once, here;
/// the directory keeps only its hash.
/// </summary>
/// <param name="Region">The region.</param>
/// <param name="OwnerToken">The token that frees the region; null when an open-or-create found the region already there.</param>
[GenerateSerializer, Immutable]
public sealed record RegionAllocation(RegionDescriptor Region, string? OwnerToken);
