namespace OrleansDsm.Regions;

/// <summary>What a client asks for when it allocates a region.</summary>
/// <param name="Name">The unique name; see <see cref="RegionNames"/> for the rules.</param>
/// <param name="ElementType">The element type's name (see <see cref="ElementTypes"/>).</param>
/// <param name="ElementSize">Bytes per element; must divide the page size.</param>
/// <param name="ElementCount">How many elements; at least one.</param>
/// <param name="Consistency">The region's memory model.</param>
[GenerateSerializer, Immutable]
public sealed record AllocationRequest(
    string Name,
    string ElementType,
    int ElementSize,
    long ElementCount,
    Consistency Consistency);
