using System.Runtime.CompilerServices;
using OrleansDsm.Pages;

namespace OrleansDsm.Arrays;

/// <summary>
/// What the client needs to know about an element type: its size, its recorded name, how it travels as the low bytes
/// of a <see cref="ulong"/> (little-endian, as on every platform .NET runs this on), and whether pages can add it.
/// </summary>
internal static class ElementCodec<T> where T : unmanaged
{
    public static readonly int Size = Unsafe.SizeOf<T>();

    public static readonly string TypeName = ElementTypes.NameOf(typeof(T));

    /// <summary>Whether an element fits a machine word (1, 2, 4 or 8 bytes), so single-element calls carry a ulong.</summary>
    public static readonly bool IsWord = Size is 1 or 2 or 4 or 8;

    public static readonly NumericKind? Numeric =
        typeof(T) == typeof(int) ? NumericKind.Int32 :
        typeof(T) == typeof(long) ? NumericKind.Int64 :
        typeof(T) == typeof(uint) ? NumericKind.UInt32 :
        typeof(T) == typeof(ulong) ? NumericKind.UInt64 :
        typeof(T) == typeof(float) ? NumericKind.Float32 :
        typeof(T) == typeof(double) ? NumericKind.Float64 :
        null;

    public static ulong ToBits(T value)
    {
        ulong bits = 0;
        Unsafe.WriteUnaligned(ref Unsafe.As<ulong, byte>(ref bits), value);
        return bits;
    }

    public static T FromBits(ulong bits) => Unsafe.ReadUnaligned<T>(ref Unsafe.As<ulong, byte>(ref bits));
}
