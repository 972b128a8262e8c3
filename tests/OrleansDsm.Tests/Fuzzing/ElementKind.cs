namespace OrleansDsm.Tests.Fuzzing;

/// <summary>
/// An element type the fuzz test allocates regions of, with what it expects of it: its size, how an atomic add
/// combines two elements' bits (null when the type cannot be added), and how it opens a handle of that type.
/// </summary>
internal sealed record ElementKind(string Name, int Size, Func<ulong, ulong, ulong>? Add, Func<ulong, ulong> Mask)
{
    public static readonly ElementKind Int32 = new("int32", 4, (a, b) => (uint)(a + b), bits => (uint)bits);
    public static readonly ElementKind Int64 = new("int64", 8, (a, b) => a + b, bits => bits);
    // Small whole numbers only, so no NaN payload depends on which operand an add puts first.
    public static readonly ElementKind Float64 = new("float64", 8,
        (a, b) => BitConverter.DoubleToUInt64Bits(BitConverter.UInt64BitsToDouble(a) + BitConverter.UInt64BitsToDouble(b)),
        bits => BitConverter.DoubleToUInt64Bits((int)(bits % 2001) - 1000));
    public static readonly ElementKind UInt8 = new("uint8", 1, null, bits => (byte)bits);

    public static readonly ElementKind[] All = [Int32, Int64, Float64, UInt8];

    public Task<IFuzzHandle> AllocateAsync(DsmClient client, ShadowRegion shadow) => Name switch
    {
        "int32" => FuzzHandle<int>.AllocateAsync(client, shadow),
        "int64" => FuzzHandle<long>.AllocateAsync(client, shadow),
        "float64" => FuzzHandle<double>.AllocateAsync(client, shadow),
        _ => FuzzHandle<byte>.AllocateAsync(client, shadow),
    };

    public Task<IFuzzHandle> OpenAsync(DsmClient client, string name, ShadowRegion? shadow) => Name switch
    {
        "int32" => FuzzHandle<int>.OpenAsync(client, name, shadow),
        "int64" => FuzzHandle<long>.OpenAsync(client, name, shadow),
        "float64" => FuzzHandle<double>.OpenAsync(client, name, shadow),
        _ => FuzzHandle<byte>.OpenAsync(client, name, shadow),
    };

    public override string ToString() => Name;
}
