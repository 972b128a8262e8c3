using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using OrleansDsm.Grains.Pages;
using OrleansDsm.Grains.Persistence;

namespace OrleansDsm.Tests.Units;

/// <summary>
/// The storage serializer writes exactly what Orleans' own writes, so pages stored by either read back through the
/// other, and its payload is an array of exactly the state's size.
/// </summary>
public sealed class ExactSizeStorageSerializerTests
{
    private static readonly Serializer Serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();

    [Fact]
    public void A_page_state_is_written_byte_for_byte_as_orleans_writes_it_into_an_exactly_sized_array()
    {
        var page = new PageState { Epoch = 3, Version = 41, Bytes = [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 7))], LeasesMayBeOut = true };
        var ours = new ExactSizeStorageSerializer(Serializer).Serialize(page);
        var orleans = new OrleansGrainStorageSerializer(Serializer).Serialize(page);

        Assert.Equal(orleans.ToArray(), ours.ToArray());
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(ours.ToMemory(), out var segment));
        Assert.Equal(ours.ToMemory().Length, segment.Array!.Length);

        var back = new ExactSizeStorageSerializer(Serializer).Deserialize<PageState>(orleans);
        Assert.Equal((page.Epoch, page.Version, page.LeasesMayBeOut), (back.Epoch, back.Version, back.LeasesMayBeOut));
        Assert.Equal(page.Bytes, back.Bytes);
    }
}
