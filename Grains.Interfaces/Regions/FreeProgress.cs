namespace OrleansDsm.Regions;

/// <summary>Where a free stands when its call returns.</summary>
/// <param name="Epoch">The allocation epoch of the region freed.</param>
/// <param name="Released">
/// Whether its release is done (stored pages deleted, handles failing, address range reusable); when not, it goes on,
/// and <see cref="IRegionDirectoryGrain.WaitReleased"/> waits for it.
/// </param>
[GenerateSerializer, Immutable]
public sealed record FreeProgress(long Epoch, bool Released);
