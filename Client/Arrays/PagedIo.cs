using System.Runtime.InteropServices;
using OrleansDsm.Caching;
using OrleansDsm.Connection;
using OrleansDsm.Pages;

namespace OrleansDsm.Arrays;

/// <summary>
/// Moves a byte range of a region to or from its pages. A range within one page is one page call; a longer range
/// goes in batches of up to <see cref="PagesPerBatch"/> pages, each one call to a silo-side fan-out, with up to
/// <see cref="BatchesInFlight"/> batches in flight. Each page's part is applied atomically; the range as a whole
/// is not.
/// </summary>
internal static class PagedIo
{
    /// <summary>The most pages one call to the silo-side fan-out carries.</summary>
    internal const int PagesPerBatch = 16;

    /// <summary>The most such calls a range operation keeps in flight.</summary>
    internal const int BatchesInFlight = 16;

    public static async Task ReadAsync<T>(PageReferences pages, TransientRetry retry, RegionDescriptor region, long byteOffset, Memory<T> destination, CancellationToken cancellation)
        where T : unmanaged
    {
        var spans = Split(region, byteOffset, destination.Length * (long)ElementCodec<T>.Size);
        if (spans.Count == 1)
        {
            var span = spans[0];
            var bytes = await retry.RunAsync(() => pages[span.Page].Read(region.Epoch, span.Offset, span.Length, cancellation), cancellation);
            bytes.Value.CopyTo(MemoryMarshal.AsBytes(destination.Span));
            return;
        }
        await ForEachBatchAsync(spans, async (_, batch, start) =>
        {
            var pieces = await retry.RunAsync(() => pages.Batch.Read(region.Epoch, batch, cancellation), cancellation);
            var target = MemoryMarshal.AsBytes(destination.Span)[start..];
            foreach (var piece in pieces.Value)
            {
                piece.CopyTo(target);
                target = target[piece.Length..];
            }
        }, cancellation);
    }

    /// <summary>
    /// Writes under ids from <paramref name="requests"/> (the session of <paramref name="cache"/>, if any, whose copies
    /// of the pages serve none of the written bytes while the write runs); a batch sent again keeps its ids, so no page
    /// applies it twice.
    /// </summary>
    public static async Task WriteAsync<T>(
        PageReferences pages, PageCache? cache, RequestIds requests, TransientRetry retry,
        RegionDescriptor region, long byteOffset, ReadOnlyMemory<T> source, CancellationToken cancellation)
        where T : unmanaged
    {
        var spans = Split(region, byteOffset, source.Length * (long)ElementCodec<T>.Size);
        var versions = new long?[spans.Count];
        foreach (var span in spans) cache?.BeginWrite(span.Page, span.Length == region.PageSize ? null : (span.Offset, span.Length));
        try
        {
            if (spans.Count == 1)
            {
                var request = requests.Next();
                var bytes = MemoryMarshal.AsBytes(source.Span).ToArray();
                versions[0] = await retry.RunAsync(again => pages[spans[0].Page].Write(region.Epoch, again ? request.AsRetry() : request, spans[0].Offset, bytes, cancellation), cancellation);
                return;
            }
            await ForEachBatchAsync(spans, async (first, batch, start) =>
            {
                var pieces = new byte[batch.Length][];
                for (int i = 0, at = start; i < batch.Length; at += batch[i].Length, i++)
                    pieces[i] = MemoryMarshal.AsBytes(source.Span).Slice(at, batch[i].Length).ToArray();
                var ids = requests.Reserve(batch.Length);
                var written = await retry.RunAsync(again => pages.Batch.Write(region.Epoch, again ? ids.AsRetry() : ids, batch, pieces, cancellation), cancellation);
                for (var i = 0; i < written.Length; i++) versions[first + i] = written[i];
            }, cancellation);
        }
        finally
        {
            // Each page's own change brings this client's copy of the version before up to date (see EndWrite).
            // The bytes are copied only for a page whose dropped copy the change can bring up to date.
            for (int i = 0, start = 0; i < spans.Count && cache is not null; start += spans[i].Length, i++)
            {
                var span = spans[i];
                cache.EndWrite(span.Page, span.Length == region.PageSize ? null : (span.Offset, span.Length), versions[i],
                    versions[i] is null || !cache.MayUpdateInPlace(span.Page)
                        ? null
                        : new PageChange(span.Offset, MemoryMarshal.AsBytes(source.Span).Slice(start, span.Length).ToArray()));
            }
        }
    }

    /// <summary>The page-sized pieces of [byteOffset, byteOffset + length) of the region, in order.</summary>
    private static List<PageSpan> Split(RegionDescriptor region, long byteOffset, long length)
    {
        var geometry = region.Geometry;
        var spans = new List<PageSpan>((int)Math.Min(geometry.PagesFor(length) + 1, int.MaxValue));
        for (long done = 0; done < length; )
        {
            var offset = byteOffset + done;
            var pageOffset = (int)(offset & (geometry.PageSize - 1));
            var pieceLength = (int)Math.Min(geometry.PageSize - pageOffset, length - done);
            spans.Add(new PageSpan(region.FirstPage + (offset >> geometry.Shift), pageOffset, pieceLength));
            done += pieceLength;
        }
        return spans;
    }

    /// <summary>Runs <paramref name="transfer"/> on consecutive batches of spans, given each batch's first span index and its first byte in the caller's buffer.</summary>
    private static async Task ForEachBatchAsync(List<PageSpan> spans, Func<int, PageSpan[], int, Task> transfer, CancellationToken cancellation)
    {
        var inFlight = new List<Task>(BatchesInFlight);
        var start = 0;
        for (var first = 0; first < spans.Count; first += PagesPerBatch)
        {
            cancellation.ThrowIfCancellationRequested();
            var batch = spans.GetRange(first, Math.Min(PagesPerBatch, spans.Count - first)).ToArray();
            inFlight.Add(transfer(first, batch, start));
            start += batch.Sum(span => span.Length);
            if (inFlight.Count == BatchesInFlight)
            {
                var finished = await Task.WhenAny(inFlight);
                if (!finished.IsCompletedSuccessfully) break;
                inFlight.Remove(finished);
            }
        }
        await Task.WhenAll(inFlight);
    }
}
