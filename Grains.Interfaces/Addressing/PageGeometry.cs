using System.Numerics;

namespace OrleansDsm.Addressing;

/// <summary>
/// The page size of a cluster: a power of two from <see cref="MinPageSize"/> to <see cref="MaxPageSize"/>.
/// Every silo and client of one cluster uses the same page size; it is recorded with the cluster when the first
/// silo starts.
/// </summary>
[GenerateSerializer, Immutable]
public readonly record struct PageGeometry
{
    /// <summary>The smallest page size a cluster may use.</summary>
    public const int MinPageSize = 512;

    /// <summary>The largest page size a cluster may use.</summary>
    public const int MaxPageSize = 1 << 20;

    /// <summary>The page size of a cluster that does not choose one.</summary>
    public const int DefaultPageSize = 4096;

    /// <summary>Creates the geometry for <paramref name="pageSize"/> bytes a page.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The size is not a power of two within the allowed range.</exception>
    public PageGeometry(int pageSize)
    {
        if (Describe(pageSize) is { } problem)
            throw new ArgumentOutOfRangeException(nameof(pageSize), pageSize, problem);
        PageSize = pageSize;
    }

    /// <summary>Bytes in one page.</summary>
    [Id(0)]
    public int PageSize { get; }

    /// <summary>log2 of the page size: an address shifted right by this much is its page number.</summary>
    public int Shift => BitOperations.Log2((uint)PageSize);

    /// <summary>Says what is wrong with <paramref name="pageSize"/> as a page size, or null when it is valid.</summary>
    public static string? Describe(int pageSize) =>
        pageSize is < MinPageSize or > MaxPageSize || !BitOperations.IsPow2(pageSize)
            ? $"The page size must be a power of two from {MinPageSize} to {MaxPageSize} bytes; {pageSize} is not."
            : null;

    /// <summary>Rounds a byte count up to whole pages.</summary>
    public long PagesFor(long bytes) => (bytes + PageSize - 1) >> Shift;
}
