namespace OrleansDsm.Regions;

/// <summary>
/// The names under which element types are recorded in region metadata. Primitive types have short,
/// language-neutral names (<c>int32</c>, <c>float64</c>, ...), which the <c>dsm</c> tool also accepts; any other
/// unmanaged type is recorded by its full .NET name.
/// </summary>
public static class ElementTypes
{
    private static readonly Dictionary<Type, string> ShortNames = new()
    {
        [typeof(sbyte)] = "int8",
        [typeof(byte)] = "uint8",
        [typeof(short)] = "int16",
        [typeof(ushort)] = "uint16",
        [typeof(int)] = "int32",
        [typeof(uint)] = "uint32",
        [typeof(long)] = "int64",
        [typeof(ulong)] = "uint64",
        [typeof(float)] = "float32",
        [typeof(double)] = "float64",
        [typeof(bool)] = "bool",
        [typeof(char)] = "char",
    };

    /// <summary>The recorded name of <paramref name="type"/>.</summary>
    public static string NameOf(Type type) => ShortNames.TryGetValue(type, out var name) ? name : type.FullName ?? type.Name;

    /// <summary>The primitive type recorded as <paramref name="name"/>, or null for other names.</summary>
    public static Type? PrimitiveNamed(string name) => ShortNames.FirstOrDefault(pair => pair.Value == name).Key;
}
