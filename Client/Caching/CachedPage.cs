using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using OrleansDsm.Pages;

namespace OrleansDsm.Caching;

/// <summary>
/// One page held by the client cache, immutable but for its reference bit, its count of unread revocations and its
/// removal. A Strict copy is valid while its silo's lease runs; a Bounded copy until <see cref="FreshUntil"/> on the
/// cache's clock. While this client writes a range of the page, or other sessions' writes changed only some ranges of
/// it, its copy is replaced by one that serves every byte but those ranges (see
/// <see cref="Blocking(int, int, long?)"/>). Ranges other sessions' writes sent the bytes of are held back until a
/// revocation of a later write (see <see cref="Revoked"/>). Small changes are laid over the bytes rather than copied
/// into a new page (see <see cref="_applied"/>).
/// </summary>
internal sealed class CachedPage(long page, long epoch, long version, byte[]? bytes, SiloLease? lease, long freshUntil)
{
    private const int RemovedFlag = 1, PartialFlag = 2, OverlaidFlag = 4;
    // Every flag in one field, so that the hit that looks no further (ServesWhole, ServesEvery) reads one field, as it
    // did when only removal was marked. Partial: some ranges not served; overlaid: changes laid over the bytes.
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

    /// <summary>
    /// Whether this copy is still cached and serves every byte of the page straight from <see cref="BytesBeneath"/>: all a hit
    /// needs to know of it.
    /// </summary>
    public bool ServesWhole => _state == 0;

    /// <summary>
    /// Whether this copy is still cached and serves every byte of the page, from <see cref="BytesBeneath"/> or, where
    /// <see cref="ServesWhole"/> does not hold, from changes laid over them (read through <see cref="Read{T}"/>).
    /// </summary>
    public bool ServesEvery => (_state & ~OverlaidFlag) == 0;

    /// <summary>Whether this copy serves every byte of the page, some of them perhaps from changes laid over its bytes.</summary>
    public bool IsWhole => _blocked.Length == 0 && _held.Length == 0;

    /// <summary>Marks the entry gone. Called under the cache's lock, the only place that changes the flags once the entry is made.</summary>
    public void MarkRemoved() => _state |= RemovedFlag;

    /// <summary>
    /// Set on every hit; the eviction clock clears it, and evicts entries found clear. A revocation clears it too (see
    /// <see cref="CountRevocation"/>), so a copy not read since its last revocation has no second chance either.
    /// </summary>
    public bool Referenced { get; set; } = true;

    /// <summary>
    /// How many revocations in a row found this copy unread since the one before (see <see cref="CountRevocation"/>);
    /// kept by the copies made from this one, since this client's own writes are no reads.
    /// </summary>
    public int UnreadRevocations { get; private set; }

    /// <summary>
    /// Counts a revocation: one more found the copy unread, or none has if it was read since the last. Called under the
    /// cache's lock.
    /// </summary>
    public void CountRevocation()
    {
        UnreadRevocations = Referenced ? 0 : UnreadRevocations + 1;
        Referenced = false;
    }

    /// <summary>
    /// How many revocations in a row may find a copy unread since the one before and keep it: the next that does drops
    /// it. Every write to a cached page waits for its holders' answers, so a copy nobody reads costs each writer a
    /// round trip. Not fewer: in the Zipf 95/5 mix, dropping a copy at its second unread revocation brought back most
    /// of the fetches that stepping copies through revocations saves (0.013 to 0.023 an operation).
    /// </summary>
    public const int UnreadRevocationsKept = 4;

    /// <summary>
    /// The page's bytes, or null for a page never written (all zeros), beneath any changes laid over them: the page
    /// itself only while <see cref="ServesWhole"/> holds. Read the page through <see cref="Read{T}"/>,
    /// <see cref="CopyTo"/> or <see cref="ServedBytes"/>. Never changed: a new version is a new entry.
    /// </summary>
    public byte[]? BytesBeneath => bytes;

    /// <summary>
    /// The page as this copy serves it: <see cref="BytesBeneath"/> itself when no change is laid over them, else a new array
    /// with the changes applied. What a caller that takes the whole page as its own (a release's twin) must use.
    /// </summary>
    public byte[]? ServedBytes() => bytes is null || _applied.Length == 0 ? bytes : new PageChange(_applied).ApplyTo(bytes);

    public int Cost => (bytes?.Length ?? 0) + _appliedBytes + Overhead;

    /// <summary>How many changes a copy lays over its bytes before it makes new bytes with them applied.</summary>
    public const int MaxAppliedRuns = 8;

    /// <summary>
    /// How many ranges a copy may lack (or hold back) before it is dropped instead: a read that misses past them
    /// refetches the page. The limit also bounds this client's writes of one page in flight that a copy fetched
    /// meanwhile may leave out. In the Zipf 95/5 mix (16 callers per client, hot pages written element by element)
    /// a limit of 8 dropped copies and refused fills often enough to fetch 0.014 pages an operation; 32 halved that
    /// to 0.007, and the Strict rate against the Uncached one rose from 3.03-3.06x to 3.38-3.64x in three pairs of
    /// <c>bench/run.sh --only ReadMostlyMix</c> runs, 8 and 32 in turn. A read of a copy that lacks ranges looks
    /// through them one by one, which costs nanoseconds against a fetch's hundred microseconds.
    /// </summary>
    public const int MaxBlockedRanges = 32;

    // The ranges this copy does not serve, as [start, end) pairs; empty when it serves the whole page.
    private (int Start, int End)[] _blocked = [];

    // The changes other sessions' writes sent with their revocations, oldest first, whose writes may not be published
    // yet: their bytes are this version's, but are not served until the revocation of a later write shows every holder
    // has let go of the versions before it (see Revoked). Usually one; several when one revocation call carried a run of
    // versions the page publishes together.
    private ByteRun[] _held = [];

    // Changes served over the bytes, oldest first: released pending changes and this client's own. Applying each to a
    // new copy of the page cost a 4 KiB array per revocation, most of a read-mostly client's allocation, and those
    // arrays live as long as the copy, so they died in the oldest generation and drove its collections. At most
    // MaxAppliedRuns of them, with at most an eighth of the page's bytes; past that the copy makes new bytes.
    private ByteRun[] _applied = [];
    private int _appliedBytes;

    // Which 64-byte blocks of the page the changes in _applied may touch, bit (offset / 64) % 64 for each (pages over
    // 4 KiB share bits, which only sends more reads the slow way): a read whose blocks are clear takes the bytes
    // beneath without loading the changes, which are objects of their own and most of a random read's misses.
    private ulong _appliedBlocks;
    private const int BlockShift = 6;

    /// <summary>How many ranges of the page this copy does not serve.</summary>
    public int BlockedRanges => _blocked.Length + _held.Length;

    /// <summary>Whether this copy may serve bytes [offset, offset + length): they lie outside every blocked range.</summary>
    public bool Serves(int offset, int length)
    {
        foreach (var (start, end) in _blocked)
            if (end > offset && length > start - offset) return false;
        foreach (var held in _held)
            if (held.Offset + held.Bytes.Length > offset && offset + length > held.Offset) return false;
        return true;
    }

    /// <summary>Whether bytes [offset, offset + length) lie within one range this copy does not serve.</summary>
    public bool Lacks(int offset, int length)
    {
        foreach (var (start, end) in _blocked)
            if (start <= offset && offset + length <= end) return true;
        return false;
    }

    /// <summary>
    /// The same bytes as a copy of <paramref name="version"/> (this copy's own by default) that also does not serve
    /// [offset, offset + length): those are being written by this client (another client may read the written value
    /// before the write returns, so the old value must not be read here meanwhile), or are the only ones another
    /// session's write at <paramref name="version"/> changed.
    /// </summary>
    public CachedPage Blocking(int offset, int length, long? version = null) =>
        Copy(version ?? Version, bytes, FreshUntil, [.. _blocked, (offset, offset + length)]);

    /// <summary>The same bytes as a copy of <paramref name="version"/> that lacks <paramref name="ranges"/> ([start, end) pairs) as well.</summary>
    public CachedPage Blocking(List<(int Start, int End)> ranges, long version) => Copy(version, bytes, FreshUntil, [.. _blocked, .. ranges]);

    /// <summary>
    /// This Strict copy, of the version just before <paramref name="version"/>, as a copy of <paramref name="version"/>,
    /// whose write changed only bytes [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>),
    /// to <paramref name="changed"/> when its revocation sent them. Those bytes are not served yet: other holders may
    /// still serve the version before until the page has their answers, and a read here must not see the write before
    /// a later read elsewhere misses it. They are kept, and applied at the revocation of a later write: a page revokes a
    /// version only once every copy of the versions before it is gone or answered for. The changes held back already
    /// are applied now, unless the revocation <paramref name="continues"/> a run the page publishes together (see
    /// <see cref="PageRevocation.Continues"/>): then they stay held back with this one. Returns null when the copy lacks
    /// too many ranges already; with <paramref name="lackedAlready"/>, a range it lacks already costs nothing more.
    /// </summary>
    public CachedPage? Revoked(long version, int offset, int length, byte[]? changed, bool lackedAlready, bool continues = false)
    {
        var (content, held) = continues ? ((bytes, _applied), _held) : (Healed(), []);
        if (changed is not null && bytes is not null)
            return held.Length < MaxBlockedRanges ? Make(version, content, FreshUntil, _blocked, [.. held, new ByteRun(offset, changed)]) : null;
        if (lackedAlready && Lacks(offset, length)) return Make(version, content, FreshUntil, _blocked, held);
        return _blocked.Length < MaxBlockedRanges ? Make(version, content, FreshUntil, [.. _blocked, (offset, offset + length)], held) : null;
    }

    /// <summary>
    /// This copy's bytes and the changes served over them once the change held back is served, then
    /// <paramref name="change"/> too, if given: laid over the same bytes while they stay few and small, else applied
    /// to new bytes.
    /// </summary>
    private (byte[]? Bytes, ByteRun[] Applied) Healed(PageChange? change = null)
    {
        if (bytes is null) return (null, []);
        var added = _held.Length + (change?.Runs.Count ?? 0);
        if (added == 0) return (bytes, _applied);
        var applied = new ByteRun[_applied.Length + added];
        _applied.CopyTo(applied, 0);
        var next = _applied.Length;
        foreach (var held in _held) applied[next++] = held;
        foreach (var run in change?.Runs ?? []) applied[next++] = run;
        return applied.Length <= MaxAppliedRuns && LengthOf(applied) <= bytes.Length / 8
            ? (bytes, applied)
            : (new PageChange(applied).ApplyTo(bytes), []);
    }

    private static ulong BlocksOf(ByteRun[] runs)
    {
        var blocks = 0UL;
        foreach (var run in runs)
        {
            // A shift counts modulo 64, so block b sets bit b % 64; a run of 64 blocks or more sets them all.
            var (first, last) = (run.Offset >> BlockShift, (run.Offset + Math.Max(run.Bytes.Length, 1) - 1) >> BlockShift);
            for (var block = first; block <= last && block < first + 64; block++) blocks |= 1UL << block;
        }
        return blocks;
    }

    private static int LengthOf(ByteRun[] runs)
    {
        var length = 0;
        foreach (var run in runs) length += run.Bytes.Length;
        return length;
    }

    /// <summary>This copy serving <paramref name="ranges"/> again, one lacked range for each: they hold this version's bytes after all.</summary>
    public CachedPage Without((int Start, int End)[] ranges)
    {
        var blocked = new List<(int Start, int End)>(_blocked);
        foreach (var range in ranges) blocked.Remove(range);
        return Copy(Version, bytes, FreshUntil, [.. blocked]);
    }

    /// <summary>
    /// This copy as <paramref name="change"/>, this client's own, leaves it at <paramref name="newVersion"/> (lacking the
    /// ranges it lacked, and as fresh as it was), or null when it has no bytes to change (a page never written, whose
    /// size the cache does not know). A change held back is applied first: the page acknowledged this client's write
    /// only after every copy of the versions before it was gone or answered for.
    /// </summary>
    public CachedPage? Changed(long newVersion, PageChange change) => bytes is null
        ? null
        : Make(newVersion, Healed(change), FreshUntil, _blocked, []);

    /// <summary>This copy without its bytes, for a cache that tracks validity only and serves no reads.</summary>
    public CachedPage WithoutBytes() =>
        Make(Version, (null, []), FreshUntil, [.. _blocked, .. _held.Select(held => (held.Offset, held.Offset + held.Bytes.Length))], []);

    /// <summary>A copy that keeps the change held back, if any, and the changes laid over these bytes when it keeps them.</summary>
    private CachedPage Copy(long version, byte[]? newBytes, long freshUntil, (int Start, int End)[] blocked) =>
        Make(version, (newBytes, newBytes == bytes ? _applied : []), freshUntil, blocked, _held);

    private CachedPage Make(long version, (byte[]? Bytes, ByteRun[] Applied) content, long freshUntil, (int Start, int End)[] blocked, ByteRun[] held) =>
        new(Page, Epoch, version, content.Bytes, Lease, freshUntil)
        {
            _blocked = blocked, _held = held, _applied = content.Applied, _appliedBytes = LengthOf(content.Applied), _appliedBlocks = BlocksOf(content.Applied),
            _state = (blocked.Length == 0 && held.Length == 0 ? 0 : PartialFlag) | (content.Applied.Length == 0 ? 0 : OverlaidFlag), Referenced = Referenced,
            UnreadRevocations = UnreadRevocations,
        };

    /// <summary>The element at <paramref name="offset"/>, which the caller has checked lies within the page.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Read<T>(int offset) where T : unmanaged
    {
        if (bytes is null) return default;
        return ChangesMayTouch<T>(offset) ? ReadApplied<T>(offset) : Unsafe.ReadUnaligned<T>(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(bytes), offset));
    }

    /// <summary>
    /// Whether a change laid over the bytes may touch the element at <paramref name="offset"/>; if not, the element is
    /// <see cref="BytesBeneath"/>' own. Never, for a copy with no change laid over its bytes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool ChangesMayTouch<T>(int offset) where T : unmanaged =>
        // An element of more than a block may span blocks between its first and last byte's: it asks the changes.
        _appliedBlocks != 0 && (Unsafe.SizeOf<T>() > 1 << BlockShift
            || (_appliedBlocks & (1UL << (offset >> BlockShift) | 1UL << ((offset + Unsafe.SizeOf<T>() - 1) >> BlockShift))) != 0);

    /// <summary>The element at <paramref name="offset"/> of a page whose changes may touch it (see <see cref="ChangesMayTouch{T}"/>).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public T ReadApplied<T>(int offset) where T : unmanaged
    {
        // A block a change touches holds other bytes too: those read the bytes beneath at once.
        if (!AppliedOverlap(offset, Unsafe.SizeOf<T>()))
            return Unsafe.ReadUnaligned<T>(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(bytes!), offset));
        Span<byte> element = stackalloc byte[Unsafe.SizeOf<T>()];
        CopyTo(offset, element);
        return MemoryMarshal.Read<T>(element);
    }

    /// <summary>Whether a change laid over the bytes touches bytes [offset, offset + length).</summary>
    private bool AppliedOverlap(int offset, int length)
    {
        foreach (var run in _applied)
            if (run.Offset < offset + length && offset < run.Offset + run.Bytes.Length) return true;
        return false;
    }

    /// <summary>Bytes [offset, offset + destination.Length) of this copy, the changes laid over its bytes included.</summary>
    public void CopyTo(int offset, Span<byte> destination)
    {
        if (bytes is null)
        {
            destination.Clear();
            return;
        }
        bytes.AsSpan(offset, destination.Length).CopyTo(destination);
        // Oldest first, so that where changes overlap the newest is what is read.
        foreach (var run in _applied)
        {
            var start = Math.Max(offset, run.Offset);
            var end = Math.Min(offset + destination.Length, run.Offset + run.Bytes.Length);
            if (start < end) run.Bytes.AsSpan(start - run.Offset, end - start).CopyTo(destination[(start - offset)..]);
        }
    }
}
