namespace OrleansDsm.Caching;

/// <summary>What this client's own small write did to a page: <paramref name="Bytes"/> replaced the bytes from <paramref name="Offset"/>.</summary>
internal sealed record PageChange(int Offset, byte[] Bytes)
{
    /// <summary>A copy of <paramref name="page"/> with this change applied.</summary>
    public byte[] ApplyTo(byte[] page)
    {
        var changed = (byte[])page.Clone();
        Bytes.CopyTo(changed.AsSpan(Offset));
        return changed;
    }
}
