using OrleansDsm.Pages;

namespace OrleansDsm.Caching;

/// <summary>What this client's own write did to a page: each of <paramref name="Runs"/> replaced the bytes at its offset.</summary>
internal sealed record PageChange(IReadOnlyList<ByteRun> Runs)
{
    /// <summary>A change of one place: <paramref name="bytes"/> replaced the bytes from <paramref name="offset"/>.</summary>
    public PageChange(int offset, byte[] bytes) : this([new ByteRun(offset, bytes)]) { }

    /// <summary>A copy of <paramref name="page"/> with this change applied.</summary>
    public byte[] ApplyTo(byte[] page)
    {
        var changed = (byte[])page.Clone();
        // Indexed, not enumerated: an enumerator of the interface is one more allocation per change.
        for (var i = 0; i < Runs.Count; i++) Runs[i].Bytes.CopyTo(changed.AsSpan(Runs[i].Offset));
        return changed;
    }
}
