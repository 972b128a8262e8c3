using System.Buffers;
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
/// and marks are rented from the shared array pool and given back by <see cref="Return"/>.</para>
/// </summary>
internal sealed class DirtyPage(long page, long epoch, int pageSize, RequestIds requests, byte[]? twin)
{
    private byte[]? _twin = twin;
    private byte[] _bytes = ArrayPool<byte>.Shared.Rent(pageSize);
    private ulong[] _written = RentClearedMarks(pageSize);

    public long Page { get; } = page;
    public long Epoch { get; } = epoch;

    /// <summary>The ids the release sends this page's write under, and so the lock hold it carries, if any.</summary>
    public RequestIds Requests { get; } = requests;

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
        for (var i = 0; i < pageSize; i++)
            if (newer.IsWritten(i)) _bytes[i] = newer._bytes[i];
        for (var word = 0; word < Words; word++) _written[word] |= newer._written[word];
    }

    /// <summary>The written bytes that differ from the twin, as maximal runs: all a release sends. Empty when nothing changed.</summary>
    public ByteRun[] Runs()
    {
        // A stencil rewrites whole pages every step: the page is scanned 64 bytes at a time, as bit masks, so a run
        // costs a few operations per 64 bytes rather than a comparison per byte.
        var runs = new List<ByteRun>();
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
                    runs.Add(new ByteRun(start, _bytes[start..((word << 6) + bit)]));
                    start = -1;
                }
            }
        }
        if (start >= 0) runs.Add(new ByteRun(start, _bytes[start..pageSize]));
        return [.. runs];
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
        ArrayPool<byte>.Shared.Return(_bytes);
        ArrayPool<ulong>.Shared.Return(_written);
        // A use after this fails at once instead of reading bytes the pool has handed to another page.
        (_bytes, _written, _twin) = (null!, null!, null);
    }

    // Page sizes are powers of two from 512 bytes: whole words of 64.
    private int Words => pageSize / 64;

    private static ulong[] RentClearedMarks(int pageSize)
    {
        var marks = ArrayPool<ulong>.Shared.Rent(pageSize / 64);
        Array.Clear(marks, 0, pageSize / 64);
        return marks;
    }

    private bool IsWritten(int i) => (_written[i >> 6] & (1UL << i)) != 0;
}
