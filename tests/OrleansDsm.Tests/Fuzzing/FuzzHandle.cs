using System.Runtime.CompilerServices;

namespace OrleansDsm.Tests.Fuzzing;

/// <summary>One handle of a shared array, its elements seen as raw bits, so one fuzz loop drives every element type.</summary>
internal interface IFuzzHandle
{
    ShadowRegion Shadow { get; }

    /// <summary>The region's name and allocation epoch, which tells handles of two allocations of one name apart.</summary>
    string Label { get; }

    Task SetAsync(long index, ulong bits);

    Task<ulong> GetAsync(long index);

    Task<ulong> AddAsync(long index, ulong delta);

    Task<ulong> CompareExchangeAsync(long index, ulong value, ulong comparand);

    Task WriteAsync(long start, ulong[] bits);

    Task<ulong[]> ReadAsync(long start, int count);
}

internal sealed class FuzzHandle<T>(SharedArray<T> array, ShadowRegion shadow) : IFuzzHandle where T : unmanaged
{
    public ShadowRegion Shadow { get; } = shadow;

    public string Label => $"{array.Name}#{array.Region.Epoch}";

    public static async Task<IFuzzHandle> AllocateAsync(DsmClient client, ShadowRegion shadow) =>
        new FuzzHandle<T>(await client.AllocateAsync<T>(shadow.Name, shadow.Length, shadow.Consistency), shadow);

    /// <summary>Opens <paramref name="name"/>; the caller passes the shadow it expects to find, and the open fails first if there is none.</summary>
    public static async Task<IFuzzHandle> OpenAsync(DsmClient client, string name, ShadowRegion? shadow)
    {
        var array = await client.OpenAsync<T>(name);
        return new FuzzHandle<T>(array, shadow ?? throw new InvalidOperationException($"Region '{name}' opened, but the shadow holds no such region."));
    }

    public Task SetAsync(long index, ulong bits) => array.SetAsync(index, From(bits));

    public async Task<ulong> GetAsync(long index) => Bits(await array.GetAsync(index));

    public async Task<ulong> AddAsync(long index, ulong delta) => Bits(await array.AddAsync(index, From(delta)));

    public async Task<ulong> CompareExchangeAsync(long index, ulong value, ulong comparand) =>
        Bits(await array.CompareExchangeAsync(index, From(value), From(comparand)));

    public Task WriteAsync(long start, ulong[] bits) => array.WriteAsync(start, bits.Select(From).ToArray());

    public async Task<ulong[]> ReadAsync(long start, int count)
    {
        var values = new T[count];
        await array.ReadAsync(start, values);
        return values.Select(Bits).ToArray();
    }

    // The element's bytes are the low bytes of the bits (little-endian), as the page stores them.
    private static T From(ulong bits) => Unsafe.As<ulong, T>(ref bits);

    private static ulong Bits(T value)
    {
        ulong bits = 0;
        Unsafe.As<ulong, T>(ref bits) = value;
        return bits;
    }
}
