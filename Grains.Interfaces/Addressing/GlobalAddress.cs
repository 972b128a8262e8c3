namespace OrleansDsm.Addressing;

/// <summary>
/// A byte address in the cluster-wide 64-bit address space. Address zero is never allocated, so
/// <c>default(GlobalAddress)</c> can stand for "no address".
/// </summary>
/// <param name="Value">The byte offset from the start of the address space.</param>
[GenerateSerializer, Immutable]
public readonly record struct GlobalAddress(ulong Value) : IComparable<GlobalAddress>
{
    /// <summary>The address <paramref name="bytes"/> past <paramref name="address"/>.</summary>
    /// <exception cref="OverflowException">The result falls outside the 64-bit address space.</exception>
    public static GlobalAddress operator +(GlobalAddress address, long bytes) =>
        new(checked((ulong)((long)address.Value + bytes)));

    /// <summary>The number of bytes from <paramref name="origin"/> to <paramref name="address"/>.</summary>
    public static long operator -(GlobalAddress address, GlobalAddress origin) =>
        checked((long)address.Value - (long)origin.Value);

    /// <summary>The page that holds this address, for the cluster's page size.</summary>
    public long PageNumber(PageGeometry geometry) => (long)(Value >> geometry.Shift);

    /// <summary>The offset of this address within its page.</summary>
    public int PageOffset(PageGeometry geometry) => (int)(Value & (ulong)(geometry.PageSize - 1));

    /// <inheritdoc />
    public int CompareTo(GlobalAddress other) => Value.CompareTo(other.Value);

    /// <summary>Hexadecimal, as addresses are usually read.</summary>
    public override string ToString() => $"0x{Value:x}";
}
