using System.Numerics;
using System.Runtime.Intrinsics;
using OrleansDsm.Connection;
using OrleansDsm.Pages;

namespace OrleansDsm.Buffering;

/// <summary>
/// What this client wrote to one page of a Release region and has not released: the written bytes, a bit per byte
/// saying which ones were written, and, when the client's cache held the page at the first write, a twin: the page as
/// it was then. A release sends only written bytes that differ from the twin, as TreadMarks' diffs do, so rewriting a
/// value with itself costs nothing. Used under its buffer's lock only.
/// <para>A program that rewrites its pages every step (a stencil) would otherwise allocate two pages per page written
/// per step: the twin is the cached copy's own array (kept, not copied, so it must never change), and the written bytes
/// and marks come from the release buffer's pool and go back to it by <see cref="Return"/>.</para>
/// </summary>
internal sealed class DirtyPage
{
    private readonly int _pageSize;
    private readonly PageBufferPool _pool;
    private byte[]? _twin;
    private byte[] _bytes;
    private ulong[] _written;

    // pool: where the page's buffers come from, and go back to at Return.
    public DirtyPage(long page, long epoch, int pageSize, RequestIds requests, byte[]? twin, PageBufferPool pool)
    {
        (Page, Epoch, Requests, _twin, _pool, _pageSize) = (page, epoch, requests, twin, pool, pageSize);
        (_bytes, _written) = pool.Rent(pageSize);
    }

    public long Page { get; }
    public long Epoch { get; }

    /// <summary>The ids the release sends this page's write under, and so the lock hold it carries, if any.</summary>
    public RequestIds Requests { get; }

    /// <summary>
    /// The id of a release of exactly these bytes whose outcome is unknown: sending them again under it cannot apply
    /// them twice. Cleared when any write joins them.
    /// </summary>
    public RequestId? Sent { get; set; }

    public void Write(int offset, ReadOnlySpan<byte> bytes)
    {
        Sent = null;
        bytes.CopyTo(_bytes.AsSpan(offset));
        // A word of marks at a time: a whole page written costs 64 operations, not 4096.
        for (int i = offset, end = offset + bytes.Length; i < end; )
        {
            var (bit, count) = (i & 63, Math.Min(64 - (i & 63), end - i));
            _written[i >> 6] |= (count == 64 ? ulong.MaxValue : (1UL << count) - 1) << bit;
            i += count;
        }
    }

    /// <summary>Puts the written bytes among [offset, offset + destination.Length) over <paramref name="destination"/>.</summary>
    public void LayOver(int offset, Span<byte> destination)
    {
        for (var i = 0; i < destination.Length; i++)
            if (IsWritten(offset + i)) destination[i] = _bytes[offset + i];
    }

    /// <summary>Whether every byte of [offset, offset + length) was written here.</summary>
    public bool Covers(int offset, int length)
    {
        for (var i = offset; i < offset + length; i++)
            if (!IsWritten(i)) return false;
        return true;
    }

    /// <summary>
    /// Drops the twin at an acquire: writes made after it must be sent even where they restore the twin's bytes, since
    /// the process that released before this acquire may have changed those bytes meanwhile.
    /// </summary>
    public void ForgetTwin() => _twin = null;

    public ReadOnlySpan<byte> Slice(int offset, int length) => _bytes.AsSpan(offset, length);

    /// <summary>
    /// Writes every byte <paramref name="newer"/> holds over this page's: how a failed release is put back under what
    /// came after it. Every written byte counts, whatever either twin says (newer's may hold what this page overwrote),
    /// and the merged page keeps no twin, so its next release sends all it holds.
    /// </summary>
    public void TakeNewer(DirtyPage newer)
    {
        (_twin, Sent) = (null, null);
        for (var i = 0; i < _pageSize; i++)
            if (newer.IsWritten(i)) _bytes[i] = newer._bytes[i];
        for (var word = 0; word < Words; word++) _written[word] |= newer._written[word];
    }

    /// <summary>
    /// Stretches of written bytes that differ from the twin shorter apart than this, with every byte between them
    /// written too, go as one run, the bytes between included: they were written here (rewritten with the values they
    /// held), so sending them is within what a release may send, and a page of changed doubles whose high bytes stayed
    /// the same goes as one run instead of hundreds of a few bytes each.
    /// </summary>
    public const int Bridge = 64;

    // The stretches found by the last Runs on this thread: reused, since a release finds them on every dirty page.
    [ThreadStatic] private static List<(int Start, int End)>? t_stretches;

    /// <summary>
    /// What a release sends, empty when nothing changed: the maximal stretches of written bytes that differ from the
    /// twin, those fewer than <see cref="Bridge"/> bytes apart joined when everything between them was written.
    /// </summary>
    public ByteRun[] Runs()
    {
        var stretches = t_stretches ??= [];
        stretches.Clear();
        AddChangedStretches(stretches);
        // Joined in place: stretches[..joined] are the runs.
        var joined = 0;
        for (var i = 0; i < stretches.Count; joined++)
        {
            var (start, end) = stretches[i++];
            while (i < stretches.Count && stretches[i].Start - end < Bridge && AllWritten(end, stretches[i].Start)) end = stretches[i++].End;
            stretches[joined] = (start, end);
        }
        var runs = new ByteRun[joined];
        for (var i = 0; i < joined; i++) runs[i] = new ByteRun(stretches[i].Start, _bytes[stretches[i].Start..stretches[i].End]);
        return runs;
    }

    /// <summary>Adds the maximal stretches [Start, End) of written bytes that differ from the twin to <paramref name="stretches"/>.</summary>
    private void AddChangedStretches(List<(int Start, int End)> stretches)
    {
        // A stencil rewrites whole pages every step: the page is scanned 64 bytes at a time, as bit masks, so a run
        // costs a few operations per 64 bytes rather than a comparison per byte.
        var start = -1;
        for (var word = 0; word < Words; word++)
        {
            var changed = Changed(word);
            for (var bit = 0; bit < 64; )
            {
                if (start < 0)
                {
                    var ahead = changed >> bit;
                    if (ahead == 0) break;
                    bit += BitOperations.TrailingZeroCount(ahead);
                    start = (word << 6) + bit;
                }
                else
                {
                    // Zeros shifted in from the top read as changed: the run goes on into the next word.
                    var ahead = ~changed >> bit;
                    if (ahead == 0) break;
                    bit += BitOperations.TrailingZeroCount(ahead);
                    stretches.Add((start, (word << 6) + bit));
                    start = -1;
                }
            }
        }
        if (start >= 0) stretches.Add((start, _pageSize));
    }

    private bool AllWritten(int from, int to)
    {
        for (var i = from; i < to; i++)
            if (!IsWritten(i)) return false;
        return true;
    }

    /// <summary>One bit per byte of the 64 at <paramref name="word"/> x 64: written, and different from the twin if there is one.</summary>
    private ulong Changed(int word)
    {
        var written = _written[word];
        if (written == 0 || _twin is null) return written;
        var offset = word << 6;
        ReadOnlySpan<byte> mine = _bytes.AsSpan(offset, 64), theirs = _twin.AsSpan(offset, 64);
        var low = Vector256.Equals(Vector256.Create<byte>(mine), Vector256.Create<byte>(theirs)).ExtractMostSignificantBits();
        var high = Vector256.Equals(Vector256.Create<byte>(mine[32..]), Vector256.Create<byte>(theirs[32..])).ExtractMostSignificantBits();
        return written & ~(low | (ulong)high << 32);
    }

    /// <summary>Gives the buffers back to the pool once the page is done with: released, dropped, or merged into another.</summary>
    public void Return()
    {
        _pool.Return(_bytes, _written);
        // A use after this fails at once instead of reading bytes the pool has handed to another page.
        (_bytes, _written, _twin) = (null!, null!, null);
    }

    // Page sizes are powers of two from 512 bytes: whole words of 64.
    private int Words => _pageSize / 64;

    private bool IsWritten(int i) => (_written[i >> 6] & (1UL << i)) != 0;
}
