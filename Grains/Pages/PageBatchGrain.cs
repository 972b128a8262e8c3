using OrleansDsm.Pages;

namespace OrleansDsm.Grains.Pages;

/// <summary>
/// A stateless fan-out on the silo that receives the call. It holds nothing between calls, so any number of
/// activations may run side by side.
/// </summary>
[StatelessWorker]
internal sealed class PageBatchGrain : Grain, IPageBatchGrain
{
    public async Task<byte[]> Read(long epoch, PageSpan[] spans, CancellationToken cancellation)
    {
        var offsets = Offsets(spans, out var total);
        var pieces = await Task.WhenAll(spans.Select(span =>
            GrainFactory.GetGrain<IPageGrain>(span.Page).Read(epoch, span.Offset, span.Length, cancellation)));
        var bytes = new byte[total];
        for (var i = 0; i < spans.Length; i++) pieces[i].CopyTo(bytes, offsets[i]);
        return bytes;
    }

    public async Task<long[]> Write(long epoch, RequestId first, PageSpan[] spans, byte[] bytes, CancellationToken cancellation)
    {
        var offsets = Offsets(spans, out var total);
        if (total != bytes.Length)
            throw new ArgumentException($"The spans cover {total} bytes but {bytes.Length} were sent.", nameof(bytes));
        return await Task.WhenAll(spans.Select((span, i) => GrainFactory.GetGrain<IPageGrain>(span.Page)
            .Write(epoch, first with { Sequence = first.Sequence + i }, span.Offset, bytes.AsSpan(offsets[i], span.Length).ToArray(), cancellation)));
    }

    private static int[] Offsets(PageSpan[] spans, out int total)
    {
        ArgumentNullException.ThrowIfNull(spans);
        var offsets = new int[spans.Length];
        total = 0;
        for (var i = 0; i < spans.Length; i++)
        {
            if (spans[i].Length <= 0) throw new ArgumentOutOfRangeException(nameof(spans), spans[i].Length, "A span holds at least one byte.");
            offsets[i] = total;
            total = checked(total + spans[i].Length);
        }
        return offsets;
    }
}
