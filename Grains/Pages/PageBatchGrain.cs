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
        // Every piece starts at once: on its page's turn when the page is active here, else by a call. The batch
        // resumes once, when all have ended, not once per page (a trip through this grain's queue each).
        var here = new Task<long?>?[spans.Length];
        var called = new Task<long>?[spans.Length];
        var all = new Task[spans.Length];
        for (var i = 0; i < spans.Length; i++)
            all[i] = local.Find(spans[i].Page) is { } page
                ? here[i] = page.TryWriteHere(epoch, Request(i), spans[i].Offset, pieces[i])
                : called[i] = Call(i);
        await Task.WhenAll(all);
        // A page that began to deactivate before its piece applied wrote nothing: its next activation takes the call.
        List<Task>? again = null;
        for (var i = 0; i < spans.Length; i++)
            if (here[i] is { Result: null })
                (again ??= []).Add(called[i] = Call(i));
        if (again is not null) await Task.WhenAll(again);
        var versions = new long[spans.Length];
        for (var i = 0; i < spans.Length; i++) versions[i] = here[i]?.Result ?? called[i]!.Result;
        return versions;

        RequestId Request(int i) => first with { Sequence = first.Sequence + i };
        Task<long> Call(int i) => Pages[spans[i].Page].Write(epoch, Request(i), spans[i].Offset, pieces[i]);
    }

    /// <summary>Checks that there are spans, each holding at least one byte.</summary>
    private static void CheckSpans(PageSpan[] spans)
    {
        ArgumentNullException.ThrowIfNull(spans);
        foreach (var span in spans)
            if (span.Length <= 0) throw new ArgumentOutOfRangeException(nameof(spans), span.Length, "A span holds at least one byte.");
    }
}
