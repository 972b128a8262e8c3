namespace OrleansDsm.Buffering;

/// <summary>
/// The buffers of dirty pages that were released, kept for the next ones: a program that rewrites its pages every
/// step (a stencil) has hundreds of pages dirty at once, more than the shared array pool keeps, so without this every
/// step would allocate them anew. Keeps up to <see cref="MaxRetainedBytes"/>; used under its release buffer's lock.
/// </summary>
internal sealed class PageBufferPool
{
    public const long MaxRetainedBytes = 16 << 20;

    private readonly Dictionary<int, Stack<(byte[] Bytes, ulong[] Marks)>> _free = [];
    private long _retainedBytes;

    /// <summary>A page's bytes (contents undefined) and its write marks, cleared.</summary>
    public (byte[] Bytes, ulong[] Marks) Rent(int pageSize)
    {
        if (_free.TryGetValue(pageSize, out var free) && free.TryPop(out var buffers))
        {
            _retainedBytes -= pageSize;
            Array.Clear(buffers.Marks);
            return buffers;
        }
        return (new byte[pageSize], new ulong[pageSize / 64]);
    }

    public void Return(byte[] bytes, ulong[] marks)
    {
        if (_retainedBytes + bytes.Length > MaxRetainedBytes) return;
        if (!_free.TryGetValue(bytes.Length, out var free)) _free[bytes.Length] = free = new Stack<(byte[], ulong[])>();
        free.Push((bytes, marks));
        _retainedBytes += bytes.Length;
    }
}
