using System.Buffers.Binary;
using OrleansDsm.Pages;

namespace OrleansDsm.Grains.Pages;

/// <summary>
/// Element loads, stores and arithmetic on page bytes. Elements of 1 to 8 bytes travel as the low bytes of a
/// <see cref="ulong"/>, little-endian, which is the byte order of every platform .NET runs this on.
/// </summary>
internal static class PageAtomics
{
    public static ulong Load(ReadOnlySpan<byte> element) => element.Length switch
    {
        1 => element[0],
        2 => BinaryPrimitives.ReadUInt16LittleEndian(element),
        4 => BinaryPrimitives.ReadUInt32LittleEndian(element),
        8 => BinaryPrimitives.ReadUInt64LittleEndian(element),
        _ => throw new ArgumentOutOfRangeException(nameof(element), element.Length, "An element is 1, 2, 4 or 8 bytes."),
    };

    public static void Store(Span<byte> element, ulong value)
    {
        switch (element.Length)
        {
            case 1: element[0] = (byte)value; break;
            case 2: BinaryPrimitives.WriteUInt16LittleEndian(element, (ushort)value); break;
            case 4: BinaryPrimitives.WriteUInt32LittleEndian(element, (uint)value); break;
            case 8: BinaryPrimitives.WriteUInt64LittleEndian(element, value); break;
            default: throw new ArgumentOutOfRangeException(nameof(element), element.Length, "An element is 1, 2, 4 or 8 bytes.");
        }
    }

    /// <summary>The element size of a numeric kind.</summary>
    public static int SizeOf(NumericKind kind) => kind switch
    {
        NumericKind.Int32 or NumericKind.UInt32 or NumericKind.Float32 => 4,
        NumericKind.Int64 or NumericKind.UInt64 or NumericKind.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown numeric kind."),
    };

    /// <summary>Adds <paramref name="delta"/> to the element in place and returns the new value's bits.</summary>
    public static ulong Add(Span<byte> element, NumericKind kind, ulong delta)
    {
        var current = Load(element);
        var sum = kind switch
        {
            NumericKind.Int32 or NumericKind.UInt32 => (uint)current + (uint)delta,
            NumericKind.Int64 or NumericKind.UInt64 => current + delta,
            NumericKind.Float32 => BitConverter.SingleToUInt32Bits(
                BitConverter.UInt32BitsToSingle((uint)current) + BitConverter.UInt32BitsToSingle((uint)delta)),
            NumericKind.Float64 => BitConverter.DoubleToUInt64Bits(
                BitConverter.UInt64BitsToDouble(current) + BitConverter.UInt64BitsToDouble(delta)),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown numeric kind."),
        };
        Store(element, sum);
        return sum;
    }
}
