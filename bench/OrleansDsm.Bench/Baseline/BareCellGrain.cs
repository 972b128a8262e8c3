using System.Buffers.Binary;
using OrleansDsm.Grains.Hosting;

namespace OrleansDsm.Bench.Baseline;

[GenerateSerializer]
public sealed class BareCellState
{
    [Id(0)]
    public byte[] Bytes { get; set; } = new byte[4096];
}

public sealed class BareCellGrain([PersistentState("cell", StorageNames.Pages)] IPersistentState<BareCellState> stored) : Grain, IBareCellGrain
{
    public Task<ulong> ReadElement(long epoch, int offset, int size, CancellationToken cancellation) =>
        Task.FromResult(BinaryPrimitives.ReadUInt64LittleEndian(stored.State.Bytes.AsSpan(offset, 8)));

    public Task WriteElement(long epoch, int offset, int size, ulong value, CancellationToken cancellation)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(stored.State.Bytes.AsSpan(offset, 8), value);
        return stored.WriteStateAsync(cancellation);
    }

    public Task WritePage(long epoch, byte[] bytes, CancellationToken cancellation)
    {
        stored.State.Bytes = bytes;
        return stored.WriteStateAsync(cancellation);
    }
}
