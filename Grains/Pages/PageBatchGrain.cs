using OrleansDsm.Grains.Regions;
using OrleansDsm.Pages;

namespace OrleansDsm.Grains.Pages;

/// <summary>
/// A stateless fan-out on the silo that receives the call. It holds nothing between calls, so any number of
/// activations may run side by side. A read takes the pages active on this silo straight from them (see
/// <see cref="LocalPages"/>), a write runs on their turn without a call (see <see cref="PageGrain.TryWriteHere"/>),
/// and both call the others. A batch checks for cancellation once, before it fans out, instead of handing the token
/// to every page: Orleans registers a cancellation callback for each call given a live token, and a page uses the
/// token only while it checks its region is live, never once a mutation has begun.
/// </summary>
[StatelessWorker]
internal sealed class PageBatchGrain(LocalPages local, RegionLivenessCache regions) : Grain, IPageBatchGrain
{
    private GrainReferences<IPageGrain>? _pages;

    private GrainReferences<IPageGrain> Pages => _pages ??= new GrainReferences<IPageGrain>(GrainFactory);

    public async Task<Immutable<byte[][]>> Read(long epoch, PageSpan[] spans, CancellationToken cancellation)
    {
        CheckSpans(spans);
        cancellation.ThrowIfCancellationRequested();
        var pieces = new byte[spans.Length][];
        List<Task>? pending = null;
        for (var i = 0; i < spans.Length; i++)
        {
            var read = ReadPieceAsync(epoch, spans[i], pieces, i, cancellation);
            if (!read.IsCompletedSuccessfully) (pending ??= []).Add(read.AsTask());
        }
        if (pending is not null) await Task.WhenAll(pending);
        return new(pieces);
    }

    private async ValueTask ReadPieceAsync(long epoch, PageSpan span, byte[][] pieces, int index, CancellationToken cancellation)
    {
        if (local.Find(span.Page) is { } page)
        {
            await regions.RequireLive(epoch, span.Page, cancellation);
            if (page.TryReadCommitted(epoch, span.Offset, span.Length, out var bytes))
            {
                pieces[index] = bytes;
                return;
            }
        }
        pieces[index] = (await Pages[span.Page].Read(epoch, span.Offset, span.Length)).Value;
    }

    public async Task<long[]> Write(long epoch, RequestId first, PageSpan[] spans, byte[][] pieces, CancellationToken cancellation)
    {
        CheckSpans(spans);
        ArgumentNullException.ThrowIfNull(pieces);
        if (pieces.Length != spans.Length)
            throw new ArgumentException($"{spans.Length} spans were sent with {pieces.Length} pieces; each span takes one.", nameof(pieces));
        for (var i = 0; i < spans.Length; i++)
            if (pieces[i]?.Length != spans[i].Length)
                throw new ArgumentException($"Span {i} covers {spans[i].Length} bytes but its piece holds {pieces[i]?.Length.ToString() ?? "none"}.", nameof(pieces));
        cancellation.ThrowIfCancellationRequested();
        var writes = new Task<long>[spans.Length];
        for (var i = 0; i < spans.Length; i++)
            writes[i] = WritePieceAsync(epoch, first with { Sequence = first.Sequence + i }, spans[i], pieces[i]);
        return await Task.WhenAll(writes);
    }

    private async Task<long> WritePieceAsync(long epoch, RequestId request, PageSpan span, byte[] piece)
    {
        if (local.Find(span.Page) is { } page && await page.TryWriteHere(epoch, request, span.Offset, piece) is { } version) return version;
        return await Pages[span.Page].Write(epoch, request, span.Offset, piece);
    }

    /// <summary>Checks that there are spans, each holding at least one byte.</summary>
    private static void CheckSpans(PageSpan[] spans)
    {
        ArgumentNullException.ThrowIfNull(spans);
        foreach (var span in spans)
            if (span.Length <= 0) throw new ArgumentOutOfRangeException(nameof(spans), span.Length, "A span holds at least one byte.");
    }
}
