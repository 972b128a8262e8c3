using OrleansDsm.Connection;
using OrleansDsm.Pages;

namespace OrleansDsm.Buffering;

/// <summary>
/// What this client wrote to one page of a Release region and has not released: the written bytes, a bit per byte
/// saying which ones were written, and, when the client's cache held the page at the first write, a twin: the page as
/// it was then. A release sends only written bytes that differ from the twin, as TreadMarks' diffs do, so rewriting a
/// value with itself costs nothing. Used under its buffer's lock only.
/// </summary>
internal sealed class DirtyPage(long page, long epoch, int pageSize, RequestIds requests, byte[]? twin)
{
    private byte[]? _twin = twin;
    private readonly byte[] _bytes = new byte[pageSize];
    private readonly ulong[] _written = new ulong[(pageSize + 63) / 64];

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
        for (var i = 0; i < _bytes.Length; i++)
            if (newer.IsWritten(i)) _bytes[i] = newer._bytes[i];
        for (var word = 0; word < _written.Length; word++) _written[word] |= newer._written[word];
    }

    /// <summary>The written bytes that differ from the twin, as maximal runs: all a release sends. Empty when nothing changed.</summary>
    public ByteRun[] Runs()
    {
        var runs = new List<ByteRun>();
        var start = -1;
        for (var word = 0; word < _written.Length; word++)
        {
            var bits = _written[word];
            // A stretch written over with what the twin holds changed nothing: compared 64 bytes at once.
            if (bits != 0 && _twin is not null && _bytes.AsSpan(word << 6, 64).SequenceEqual(_twin.AsSpan(word << 6, 64))) bits = 0;
            if (bits == 0 && start < 0) continue;
            if (bits == ulong.MaxValue && start >= 0 && _twin is null) continue;
            for (var bit = 0; bit < 64; bit++)
            {
                var i = (word << 6) + bit;
                var written = (bits & (1UL << bit)) != 0 && (_twin is null || _twin[i] != _bytes[i]);
                if (written && start < 0) start = i;
                else if (!written && start >= 0)
                {
                    runs.Add(new ByteRun(start, _bytes[start..i]));
                    start = -1;
                }
            }
        }
        if (start >= 0) runs.Add(new ByteRun(start, _bytes[start..]));
        return [.. runs];
    }

    private bool IsWritten(int i) => (_written[i >> 6] & (1UL << i)) != 0;
}
