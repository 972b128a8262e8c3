using OrleansDsm.Addressing;

namespace OrleansDsm.Regions;

/// <summary>
/// What the cluster records about one allocated region. The <see cref="Epoch"/> identifies this allocation:
/// it is never reused, so a handle that outlives <c>free</c> can be told apart from a newer region that reuses
/// the same address range.
/// </summary>
/// <param name="Name">The region's unique name.</param>
/// <param name="BaseAddress">The first byte of the region; always page-aligned.</param>
/// <param name="ElementCount">How many elements the region holds.</param>
/// <param name="ElementType">The element type's name (see <see cref="ElementTypes"/>).</param>
/// <param name="ElementSize">Bytes per element; divides the page size.</param>
/// <param name="Epoch">The allocation epoch, unique across the cluster's history.</param>
/// <param name="Consistency">The memory model of the region, fixed at allocation.</param>
/// <param name="PageSize">The cluster's page size.</param>
[GenerateSerializer, Immutable]
public sealed record RegionDescriptor(
    string Name,
    GlobalAddress BaseAddress,
    long ElementCount,
    string ElementType,
    int ElementSize,
    long Epoch,
    Consistency Consistency,
    int PageSize)
{
    /// <summary>Bytes the elements occupy.</summary>
    public long ByteLength => ElementCount * ElementSize;

    /// <summary>The cluster's page geometry.</summary>
    public PageGeometry Geometry => new(PageSize);

    /// <summary>The page that holds the first byte.</summary>
    public long FirstPage => BaseAddress.PageNumber(Geometry);

    /// <summary>Whole pages the region reserves in the address space.</summary>
    public long PageCount => Geometry.PagesFor(ByteLength);

    /// <summary>Bytes of address space the region reserves (whole pages); what the quota counts.</summary>
    public long ReservedBytes => PageCount * PageSize;

    /// <summary>Whether <paramref name="address"/> lies inside the region's elements.</summary>
    public bool Contains(GlobalAddress address) =>
        address.Value >= BaseAddress.Value && address.Value - BaseAddress.Value < (ulong)ByteLength;
}
