using System.Runtime.InteropServices;

namespace OrleansDsm.Caching;

/// <summary>One page held by the client cache, immutable but for its reference bit.</summary>
internal sealed class CachedPage(long page, long epoch, long version, byte[]? bytes, SiloLease lease)
{
    /// <summary>What an entry is charged beyond its bytes.</summary>
    private const int Overhead = 96;

    public long Page { get; } = page;
    public long Epoch { get; } = epoch;
    public long Version { get; } = version;
    public SiloLease Lease { get; } = lease;

    /// <summary>Set on every hit; the eviction clock clears it, and evicts entries found clear.</summary>
    public bool Referenced { get; set; } = true;

    public int Cost => (bytes?.Length ?? 0) + Overhead;

    public T Read<T>(int offset) where T : unmanaged => bytes is null ? default : MemoryMarshal.Read<T>(bytes.AsSpan(offset));

    public void CopyTo(int offset, Span<byte> destination)
    {
        if (bytes is null) destination.Clear();
        else bytes.AsSpan(offset, destination.Length).CopyTo(destination);
    }
}
