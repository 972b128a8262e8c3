using System.Globalization;
using System.Numerics;

namespace OrleansDsm.Cli.Running;

/// <summary>A verb body written once for every numeric element type the tool handles.</summary>
internal interface INumericVerb
{
    Task Run<T>(string typeName) where T : unmanaged, INumber<T>;
}

/// <summary>Maps the element type names of the tool (<c>int32</c>, <c>float64</c>, ...) to .NET types.</summary>
internal static class ElementTypeDispatch
{
    public static readonly string[] Names = ["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"];

    /// <summary>Whether <paramref name="typeName"/> is one of <see cref="Names"/>, which the tool reads and writes as numbers.</summary>
    public static bool Handles(string typeName) => Names.Contains(typeName);

    public static Task Run(string typeName, INumericVerb verb) => typeName switch
    {
        "int8" => verb.Run<sbyte>(typeName),
        "uint8" => verb.Run<byte>(typeName),
        "int16" => verb.Run<short>(typeName),
        "uint16" => verb.Run<ushort>(typeName),
        "int32" => verb.Run<int>(typeName),
        "uint32" => verb.Run<uint>(typeName),
        "int64" => verb.Run<long>(typeName),
        "uint64" => verb.Run<ulong>(typeName),
        "float32" => verb.Run<float>(typeName),
        "float64" => verb.Run<double>(typeName),
        _ => throw new NotSupportedException($"dsm cannot handle elements of type '{typeName}'; use the client library with that type."),
    };

    /// <summary>
    /// Reads a value as <see cref="Format{T}"/> writes it. No group separators: with them, a decimal comma ("1,5", as
    /// many locales write one and a half) was read as fifteen. A floating point value too large for its type is out of
    /// range, as an integer's is, rather than infinity: only "Infinity" is infinite.
    /// </summary>
    public static T Parse<T>(string text, string typeName) where T : INumber<T> =>
        T.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
        && (typeof(T) == typeof(float) || typeof(T) == typeof(double) || !text.Contains('.'))
        && (!T.IsInfinity(value) || text.Contains("Infinity", StringComparison.OrdinalIgnoreCase))
            ? value
            : throw new FormatException($"'{text}' is not a valid {typeName} value{(text.Contains(',') ? ": the decimal point is '.', and there are no thousands separators" : "")}.");

    public static string Format<T>(T value) where T : INumber<T> => value.ToString(null, CultureInfo.InvariantCulture);
}
