using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace OrleansDsm.Caching;

/// <summary>
/// One page held by the client cache, immutable but for its reference bit and its removal. A Strict copy is valid
/// while its silo's lease runs; a Bounded copy until <see cref="FreshUntil"/> on the cache's clock. While this client
/// writes a range of the page, its copy is replaced by one that serves every byte but that range (see <see cref="Blocking"/>).
/// </summary>
internal sealed class CachedPage(long page, long epoch, long version, byte[]? bytes, SiloLease? lease, long freshUntil)
{
    private const int RemovedFlag = 1, PartialFlag = 2;
    // Both flags in one field, so that the hit that looks no further (ServesWhole) reads one field, as it did when
    // only removal was marked.
    private volatile int _state;

    /// <summary>What an entry is charged beyond its bytes.</summary>
    public const int Overhead = 96;

    public long Page { get; } = page;
    public long Epoch { get; } = epoch;
    public long Version { get; } = version;
    public SiloLease? Lease { get; } = lease;

    /// <summary>For a Bounded copy: the clock timestamp after which it may be older than the region allows.</summary>
    public long FreshUntil { get; } = freshUntil;

    /// <summary>Set, before any revocation is acknowledged, when the entry leaves the cache; readers holding it must look again.</summary>
    public bool Removed => (_state & RemovedFlag) != 0;

    /// <summary>Whether this copy is still cached and serves every byte of the page: all a hit needs to know of it.</summary>
    public bool ServesWhole => _state == 0;

    /// <summary>Marks the entry gone. Called under the cache's lock, the only place that changes the flags once the entry is made.</summary>
    public void MarkRemoved() => _state |= RemovedFlag;

    /// <summary>Set on every hit; the eviction clock clears it, and evicts entries found clear.</summary>
    public bool Referenced { get; set; } = true;

    /// <summary>The page's bytes, or null for a page never written (all zeros). Never changed: a new version is a new entry.</summary>
    public byte[]? Bytes => bytes;

    public int Cost => (bytes?.Length ?? 0) + Overhead;

    /// <summary>The start of the range this copy does not serve (this client is writing it); 0 with <see cref="BlockedEnd"/> when none.</summary>
    public int BlockedStart { get; private init; }

    /// <summary>The end (exclusive) of the range this copy does not serve; 0 when it serves the whole page.</summary>
    public int BlockedEnd { get; private init; }

    /// <summary>Whether this copy may serve bytes [offset, offset + length): they lie outside the blocked range.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Serves(int offset, int length) => BlockedEnd <= offset || length <= BlockedStart - offset;

    /// <summary>
    /// The same copy, serving every byte but [offset, offset + length): those are being written by this client, and
    /// another client may read the written value before this client's write returns, so the old value must not be
    /// read here meanwhile. The other bytes stay what the page holds: another session's write would revoke the copy.
    /// </summary>
    public CachedPage Blocking(int offset, int length)
    {
        var partial = new CachedPage(Page, Epoch, Version, bytes, Lease, FreshUntil) { BlockedStart = offset, BlockedEnd = offset + length, Referenced = Referenced };
        partial._state = PartialFlag;
        return partial;
    }

    /// <summary>
    /// This Strict copy as <paramref name="change"/> leaves it at <paramref name="newVersion"/>, or null when it has no
    /// bytes to change (a page never written, whose size the cache does not know) or is not a Strict copy.
    /// </summary>
    public CachedPage? Changed(long newVersion, PageChange change) => bytes is null || Lease is null
        ? null
        : new CachedPage(Page, Epoch, newVersion, change.ApplyTo(bytes), Lease, 0);

    /// <summary>This copy without its bytes, for a cache that tracks validity only and serves no reads.</summary>
    public CachedPage WithoutBytes() => new(Page, Epoch, Version, null, Lease, FreshUntil);

    /// <summary>The element at <paramref name="offset"/>, which the caller has checked lies within the page.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Read<T>(int offset) where T : unmanaged => bytes is null
        ? default
        : Unsafe.ReadUnaligned<T>(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(bytes), offset));

    public void CopyTo(int offset, Span<byte> destination)
    {
        if (bytes is null) destination.Clear();
        else bytes.AsSpan(offset, destination.Length).CopyTo(destination);
    }
}
