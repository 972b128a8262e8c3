using CsCheck;
using OrleansDsm.Buffering;
using OrleansDsm.Connection;

namespace OrleansDsm.Tests.Units;

/// <summary>
/// A Release region's dirty page on its own: a release sends only written bytes that differ from the twin (joining
/// stretches of them that lie close together, over bytes also written), and a failed release put back under newer
/// writes sends every byte written, those equal to either twin included.
/// </summary>
public sealed class DirtyPageTests
{
    private const int PageSize = 512;

    [Fact]
    public void A_release_sends_written_bytes_that_differ_from_the_twin_joining_close_ones_over_bytes_written_unchanged()
    {
        var twin = new byte[PageSize];
        twin[10] = 7;
        var page = new DirtyPage(0, 1, PageSize, new RequestIds(Guid.NewGuid()), twin, new PageBufferPool());

        page.Write(8, [1, 1, 7, 1]);   // byte 10 rewritten with the twin's value: bridged
        page.Write(100, [0, 0]);       // zeros over zeros: nothing to send
        page.Write(200, [3]);
        page.Write(220, [3]);          // 19 bytes after the last change, but those were not written: not bridged
        page.Write(300, new byte[DirtyPage.Bridge + 2]);
        page.Write(300, [4]);
        page.Write(300 + DirtyPage.Bridge + 1, [4]); // written zeros between, but as long as the bridge: not bridged

        var runs = page.Runs();
        Assert.Equal([(8, new byte[] { 1, 1, 7, 1 }), (200, [3]), (220, [3]), (300, [4]), (300 + DirtyPage.Bridge + 1, [4])],
            runs.Select(run => (run.Offset, run.Bytes)));
    }

    [Fact]
    public void A_failed_release_put_back_under_newer_writes_sends_every_byte_written()
    {
        var failed = new DirtyPage(0, 1, PageSize, new RequestIds(Guid.NewGuid()), new byte[PageSize], new PageBufferPool());
        failed.Write(0, [5, 5]);
        // The newer writes' twin was taken while the failed release was in flight; byte 0 goes back to what it holds.
        var newerTwin = new byte[PageSize];
        var newer = new DirtyPage(0, 1, PageSize, new RequestIds(Guid.NewGuid()), newerTwin, new PageBufferPool());
        newer.Write(0, [0]);

        failed.TakeNewer(newer);

        var runs = failed.Runs();
        Assert.Equal([(0, new byte[] { 0, 5 })], runs.Select(run => (run.Offset, run.Bytes)));
    }

    [Fact]
    public void Runs_are_the_maximal_stretches_of_written_bytes_that_differ_from_the_twin_joined_over_short_written_gaps()
    {
        // Writes of a few bytes of a small alphabet, so that many rewrite what the twin holds; runs cross 64-byte words.
        var write = Gen.Select(Gen.Int[0, PageSize - 1], Gen.Byte[0, 2].Array[1, 150]);
        Gen.Select(Gen.Bool, Gen.Byte[0, 2].Array[PageSize], write.Array[0, 12]).Sample((hasTwin, twin, writes) =>
        {
            var page = new DirtyPage(0, 1, PageSize, new RequestIds(Guid.NewGuid()), hasTwin ? twin : null, new PageBufferPool());
            var (bytes, written) = (new byte[PageSize], new bool[PageSize]);
            foreach (var (offset, data) in writes)
            {
                var part = data.AsSpan(0, Math.Min(data.Length, PageSize - offset));
                page.Write(offset, part);
                part.CopyTo(bytes.AsSpan(offset));
                written.AsSpan(offset, part.Length).Fill(true);
            }
            var stretches = new List<(int Start, int End)>();
            for (var i = 0; i < PageSize; )
            {
                if (!written[i] || hasTwin && bytes[i] == twin[i]) { i++; continue; }
                var start = i;
                while (i < PageSize && written[i] && !(hasTwin && bytes[i] == twin[i])) i++;
                stretches.Add((start, i));
            }
            // Joined when fewer than Bridge bytes apart and every byte between was written.
            var joined = new List<(int Start, int End)>();
            foreach (var stretch in stretches)
                if (joined.Count > 0 && stretch.Start - joined[^1].End < DirtyPage.Bridge && written.AsSpan(joined[^1].End, stretch.Start - joined[^1].End).IndexOf(false) < 0)
                    joined[^1] = (joined[^1].Start, stretch.End);
                else joined.Add(stretch);
            var expected = joined.Select(run => (run.Start, bytes[run.Start..run.End]));
            return expected.SequenceEqual(page.Runs().Select(run => (run.Offset, run.Bytes)), RunComparer.Instance);
        });
    }

    [Fact]
    public void A_page_made_from_pooled_buffers_starts_with_nothing_written()
    {
        var pool = new PageBufferPool();
        var released = new DirtyPage(0, 1, PageSize, new RequestIds(Guid.NewGuid()), new byte[PageSize], pool);
        released.Write(0, [9, 9, 9]);
        Assert.NotEmpty(released.Runs());
        released.Return();

        var next = new DirtyPage(1, 1, PageSize, new RequestIds(Guid.NewGuid()), null, pool);

        Assert.Empty(next.Runs()); // no twin: every byte marked written would be sent, so none may be marked
        Assert.False(next.Covers(0, 1));
    }

    private sealed class RunComparer : IEqualityComparer<(int Offset, byte[] Bytes)>
    {
        public static readonly RunComparer Instance = new();
        public bool Equals((int Offset, byte[] Bytes) x, (int Offset, byte[] Bytes) y) => x.Offset == y.Offset && x.Bytes.AsSpan().SequenceEqual(y.Bytes);
        public int GetHashCode((int Offset, byte[] Bytes) run) => run.Offset;
    }
}
