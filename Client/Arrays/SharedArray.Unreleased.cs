using System.Runtime.InteropServices;

namespace OrleansDsm.Arrays;

// How an array of a Release region keeps its writes in the client until a release point, and reads them back over
// what the cache or the page holds.
public sealed partial class SharedArray<T>
{
    /// <summary>In a Release region, reads the element from this client's unreleased writes, if it is among them.</summary>
    private bool TryReadUnreleased(long page, int offset, out T value)
    {
        value = default;
        return _buffer is not null
               && _buffer.TryRead(page, Region.Epoch, offset, MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref value, 1)));
    }

    /// <summary>Puts this client's unreleased writes over a range just read.</summary>
    private void LayUnreleasedOver(long start, Span<T> destination)
    {
        if (_buffer!.IsEmpty) return;
        var bytes = MemoryMarshal.AsBytes(destination);
        var first = start * ElementCodec<T>.Size;
        for (var done = 0; done < bytes.Length; )
        {
            var offset = (int)((first + done) & _pageMask);
            var length = Math.Min(Region.PageSize - offset, bytes.Length - done);
            _buffer.LayOver(Region.FirstPage + ((first + done) >> _shift), Region.Epoch, offset, bytes.Slice(done, length));
            done += length;
        }
    }

    /// <summary>In a Release region, keeps a range write for the next release, page by page.</summary>
    private async Task BufferAsync(long start, ReadOnlyMemory<T> source, CancellationToken cancellation)
    {
        var first = start * ElementCodec<T>.Size;
        var total = source.Length * ElementCodec<T>.Size;
        for (var done = 0; done < total; )
        {
            var (page, offset) = (Region.FirstPage + ((first + done) >> _shift), (int)((first + done) & _pageMask));
            var length = Math.Min(Region.PageSize - offset, total - done);
            // Copied straight from the caller's elements into the dirty page; the span is taken anew after each wait.
            while (!_buffer!.TryWrite(page, Region.Epoch, Region.PageSize, _requests, offset, MemoryMarshal.AsBytes(source.Span).Slice(done, length)))
                await _buffer.ReleasePageAsync(page, Region.Epoch, _requests, cancellation);
            done += length;
        }
    }
}
