using System.Runtime.InteropServices;
using OrleansDsm.Pages;

namespace OrleansDsm.Arrays;

/// <summary>
/// Moves a byte range of a region to or from its pages: one call per page touched, many in flight at once. Each
/// page's part is applied atomically; the range as a whole is not.
/// </summary>
internal static class PagedIo
{
    /// <summary>How many page calls one range operation keeps in flight.</summary>
    private const int MaxOutstanding = 256;

    public static Task ReadAsync<T>(IGrainFactory grains, RegionDescriptor region, long byteOffset, Memory<T> destination, CancellationToken cancellation)
        where T : unmanaged =>
        ForEachPieceAsync(region, byteOffset, destination.Length * (long)ElementCodec<T>.Size, async piece =>
        {
            var bytes = await grains.GetGrain<IPageGrain>(piece.Page).Read(region.Epoch, piece.PageOffset, piece.Length, cancellation);
            bytes.CopyTo(MemoryMarshal.AsBytes(destination.Span).Slice(piece.Start, piece.Length));
        }, cancellation);

    public static Task WriteAsync<T>(IGrainFactory grains, RegionDescriptor region, long byteOffset, ReadOnlyMemory<T> source, CancellationToken cancellation)
        where T : unmanaged =>
        ForEachPieceAsync(region, byteOffset, source.Length * (long)ElementCodec<T>.Size, piece =>
        {
            var bytes = MemoryMarshal.AsBytes(source.Span).Slice(piece.Start, piece.Length).ToArray();
            return grains.GetGrain<IPageGrain>(piece.Page).Write(region.Epoch, piece.PageOffset, bytes, cancellation);
        }, cancellation);

    private static async Task ForEachPieceAsync(RegionDescriptor region, long byteOffset, long length, Func<Piece, Task> transfer, CancellationToken cancellation)
    {
        var geometry = region.Geometry;
        var inFlight = new List<Task>(MaxOutstanding);
        var failed = false;
        for (long done = 0; done < length && !failed; )
        {
            cancellation.ThrowIfCancellationRequested();
            var offset = byteOffset + done;
            var pageOffset = (int)(offset & (geometry.PageSize - 1));
            var pieceLength = (int)Math.Min(geometry.PageSize - pageOffset, length - done);
            inFlight.Add(transfer(new Piece(region.FirstPage + (offset >> geometry.Shift), pageOffset, checked((int)done), pieceLength)));
            done += pieceLength;
            if (inFlight.Count == MaxOutstanding)
            {
                var finished = await Task.WhenAny(inFlight);
                inFlight.Remove(finished);
                failed = !finished.IsCompletedSuccessfully;
                if (failed) inFlight.Add(finished);
            }
        }
        await Task.WhenAll(inFlight);
    }

    /// <summary>One page's share of a range: <see cref="Length"/> bytes at <see cref="Start"/> in the caller's buffer.</summary>
    private readonly record struct Piece(long Page, int PageOffset, int Start, int Length);
}
