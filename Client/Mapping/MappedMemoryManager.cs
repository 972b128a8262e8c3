using System.Buffers;

namespace OrleansDsm.Mapping;

/// <summary>A window of a mapped region as <see cref="Memory{T}"/>: the memory is the mapping's, never copied or pinned.</summary>
internal sealed unsafe class MappedMemoryManager<T>(T* start, int length) : MemoryManager<T> where T : unmanaged
{
    public override Span<T> GetSpan() => new(start, length);

    // The mapping does not move, so pinning is a no-op.
    public override MemoryHandle Pin(int elementIndex = 0) => new(start + elementIndex);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}
