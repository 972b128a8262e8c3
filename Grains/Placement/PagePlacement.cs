using Orleans.Placement;

namespace OrleansDsm.Grains.Placement;

/// <summary>
/// The placement of page grains: the silo's <c>Dsm:PagePlacement</c> decides, through <see cref="PagePlacementDirector"/>,
/// whether a page activates where Orleans' default placement puts it or on the silo its first call comes from.
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
internal sealed class PagePlacement : PlacementStrategy;

/// <summary>Marks a grain class as placed by <see cref="PagePlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
internal sealed class PagePlacementAttribute() : PlacementAttribute(new PagePlacement());
