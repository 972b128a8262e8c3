using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using OrleansDsm.Arrays;
using OrleansDsm.Pages;

namespace OrleansDsm.Caching;

/// <summary>
/// The client's cache of pages for <see cref="Consistency.Strict"/> and <see cref="Consistency.Bounded"/> regions,
/// shared by every array of one <see cref="DsmClient"/> (one cache session).
/// <para>A hit checks, without locking, that the entry belongs to the caller's allocation epoch and, for a Strict copy,
/// that the lease on the silo holding the page is still running by the monotonic clock (a Bounded copy: that it is not
/// older than the region's bound). Page grains revoke copies before each write
/// and wait for this cache's answer (or for its lease to end), so a valid entry is always the page's latest version.
/// A fill that was overtaken by a revocation is returned to its caller (it was correct when read) but not installed,
/// unless the revocations it missed each named the only bytes their version changed: then it is installed without
/// those bytes. A fill that lands while this client writes the page is installed without the bytes being written.
/// All bookkeeping of fills, revocations and installs happens under one lock, so no late copy can slip in after the
/// revocation that should have removed it.</para>
/// <para>The cache holds at most its byte budget; beyond it, a clock sweep evicts entries not hit since the last sweep.</para>
/// </summary>
internal sealed class PageCache : IAsyncDisposable
{
    /// <summary>Slots in the direct-mapped index that spares a hit the dictionary lookup.</summary>
    private const int RecentSlots = 1 << 14;

    private readonly PageReferences _pages;
    private readonly long _budget;
    private readonly ConcurrentDictionary<long, CachedPage> _entries = new();
    private readonly ConcurrentDictionary<string, SiloLease> _leases = new();
    private readonly ConcurrentQueue<long> _evictionQueue = new();
    private readonly ConcurrentDictionary<long, Task> _fills = new();
    private readonly CachedPage?[] _recent = new CachedPage?[RecentSlots];
    private readonly TimeProvider _clock;
    private readonly Dictionary<long, Fence> _fences = [];
    private readonly object _gate = new();
    // Orleans holds observer objects weakly: this reference keeps the holder alive as long as the cache.
    private readonly CacheHolder _holder;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _renewals;
    private long _bytes;
    // The entries' count, kept beside the dictionary: ConcurrentDictionary.Count takes every one of its locks, which
    // cost each install 6 us once the dictionary had grown. Changed under the lock only.
    private int _count;
    private int _leaseMilliseconds = 1000;
    private int _disposed;
    private readonly bool _keepsBytes;

    // keepsBytes is false for a cache that only tracks which pages it holds valid copies of (the pager's): its entries
    // keep no bytes, cost only their bookkeeping, and serve no reads.
    public PageCache(IGrainFactory grains, PageReferences pages, long budget, TimeProvider clock, int prefetchPages, bool keepsBytes = true)
    {
        _keepsBytes = keepsBytes;
        PrefetchPages = Math.Max(0, prefetchPages);
        _pages = pages;
        _budget = budget;
        _clock = clock;
        _holder = new CacheHolder(this);
        Metrics = new CacheMetrics(Session, () => Count, () => Bytes);
        Holder = grains.CreateObjectReference<ICacheHolder>(_holder);
        _renewals = RenewLeasesAsync(_stopping.Token);
    }

    /// <summary>This cache's session, named on every fill and write so pages know whose copies to revoke.</summary>
    public Guid Session { get; } = Guid.NewGuid();

    /// <summary>The reference page grains call to revoke copies.</summary>
    public ICacheHolder Holder { get; }

    public long Bytes => Interlocked.Read(ref _bytes);

    public int Count => Volatile.Read(ref _count);

    /// <summary>How many pages a sequential scan fetches ahead.</summary>
    public int PrefetchPages { get; }

    /// <summary>Whether a valid copy of the whole page is cached, without counting a hit.</summary>
    public bool Holds(long page, long epoch) =>
        _entries.TryGetValue(page, out var entry) && entry.Epoch == epoch && !entry.Removed && entry.IsWhole && IsValid(entry);

    /// <summary>The entries' costs summed afresh: what <see cref="Bytes"/> keeps count of as entries come and go.</summary>
    public long CostOfEntries => _entries.Values.Sum(entry => (long)entry.Cost);

    /// <summary>How many bytes the cache may hold.</summary>
    public long Budget => _budget;

    /// <summary>Places in the eviction queue, live or stale: kept within twice the entries (plus a little) by compaction.</summary>
    public int EvictionQueueLength => _evictionQueue.Count;

    /// <summary>This cache's counters, also published on the <c>OrleansDsm.Client</c> meter.</summary>
    public CacheMetrics Metrics { get; }

    /// <summary>
    /// Counts a hit on <paramref name="entry"/>, a copy of the caller's epoch it looked up before, if the copy is still
    /// cached, serves the whole page and is valid. A copy that serves only part of the page is looked up again
    /// (<see cref="TryGet(long, long, int, int, out CachedPage)"/>), so this check stays as short as it can be.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryHit(CachedPage entry) => entry.ServesWhole && Hit(entry);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Hit(CachedPage entry)
    {
        if (!IsValid(entry)) return false;
        if (!entry.Referenced) entry.Referenced = true;
        Metrics.Hit();
        return true;
    }

    /// <summary>A valid copy of the whole page, counting a hit, if one is cached.</summary>
    public bool TryGet(long page, long epoch, out CachedPage entry) => TryGet(page, epoch, 0, int.MaxValue, out entry);

    /// <summary>A valid copy that serves bytes [offset, offset + length) of the page, counting a hit, if one is cached.</summary>
    public bool TryGet(long page, long epoch, int offset, int length, out CachedPage entry)
    {
        if (!_keepsBytes)
        {
            entry = null!;
            return false;
        }
        ref var slot = ref _recent[page & (RecentSlots - 1)];
        entry = Volatile.Read(ref slot)!;
        if (entry is null || entry.Page != page || entry.Removed)
        {
            if (!_entries.TryGetValue(page, out entry!)) return false;
            Volatile.Write(ref slot, entry);
        }
        return entry.Epoch == epoch && (entry.ServesWhole || !entry.Removed && entry.Serves(offset, length)) && Hit(entry);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool IsValid(CachedPage entry) => entry.Lease is { } lease
        ? LeaseClock.NowNanoseconds < lease.ValidUntilNanoseconds
        : _clock.GetTimestamp() < entry.FreshUntil;

    /// <summary>Reads the whole page from its grain, registering this session as a holder, and caches it unless overtaken.</summary>
    public Task<CachedPage> FillAsync(long page, long epoch, CancellationToken cancellation)
    {
        var fill = FillThroughFenceAsync(page, async () =>
        {
            var sentAt = LeaseClock.NowMilliseconds;
            var copy = await _pages[page].Fill(epoch, Session, Holder, cancellation);
            return new CachedPage(page, epoch, copy.Version, copy.Bytes, Accept(copy.Lease, sentAt), 0);
        }, (entry, fence, _) => Admitted(fence, entry));
        if (!fill.IsCompleted)
        {
            _fills[page] = fill;
            fill.ContinueWith(done => _fills.TryRemove(KeyValuePair.Create(page, (Task)done)), TaskScheduler.Default);
        }
        return fill;
    }

    /// <summary>
    /// The Strict fill of <paramref name="page"/> in flight, if any: a read that misses meanwhile may wait for it and
    /// look in the cache again instead of fetching the page once more. It must not take that fill's copy as its own
    /// answer: a write may have completed between the fill's read and this read's start, and only a copy the cache
    /// admitted, and still holds valid when looked at, is known to be the latest.
    /// </summary>
    public Task? FillInFlight(long page) => _fills.GetValueOrDefault(page);

    /// <summary>
    /// What a fill's Strict copy may be cached as, given the page's fence, or null when it may not (see
    /// <see cref="Admits"/>); a copy older than a revocation may still be brought up to it (see <see cref="Bridged"/>).
    /// While this client writes the page, the copy is cached without the ranges being written (not at all when a write
    /// covers the whole page): whether it holds those writes is not known until they return. Called under the lock.
    /// </summary>
    private CachedPage? Admitted(Fence fence, CachedPage copy)
    {
        if (copy.Version < fence.Revoked && Bridged(fence, copy) is { } bridged) copy = bridged;
        if (!Admits(fence, copy)) return null;
        if (fence.Writes == 0) return copy;
        if (fence.RefusesFills) return null;
        return copy.Blocking(fence.Writing, copy.Version);
    }

    /// <summary>
    /// <paramref name="copy"/> as a copy of the newest version revoked, if a revocation that arrived while it was being
    /// fetched named the range each version after its own changed: outside those ranges, the bytes of its version are
    /// those of the newest. The bytes a revocation sent are applied once a later revocation shows them published (one
    /// that does not continue their run says all copies of the versions before it are answered for) and held back
    /// otherwise; a range sent without bytes is not served.
    /// </summary>
    private static CachedPage? Bridged(Fence fence, CachedPage copy)
    {
        if (fence.Revoked - copy.Version > fence.Holes.Count) return null;
        for (var version = copy.Version + 1; version <= fence.Revoked; version++)
        {
            var found = fence.Holes.FindIndex(hole => hole.Version == version);
            if (found < 0) return null;
            var hole = fence.Holes[found];
            // A revocation that starts a run is answered for the version before, and Revoked applies what was held back.
            if (copy.Revoked(version, hole.Start, hole.End - hole.Start, hole.Bytes, lackedAlready: false, hole.Continues) is not { } next) return null;
            copy = next;
        }
        return copy;
    }

    /// <summary>
    /// Whether a Strict copy may be cached: it is at least as new as every revocation and own write seen, its lease's
    /// term is current, and no newer copy is cached. Called under the lock.
    /// </summary>
    private bool Admits(Fence fence, CachedPage copy)
    {
        if (copy.Version < fence.Revoked || !IsCurrent(copy.Lease!)) return false;
        // A whole copy replaces a partial one of its own version.
        if (_entries.TryGetValue(copy.Page, out var cached) && cached.Lease == copy.Lease
            && (cached.Version > copy.Version || cached.Version == copy.Version && cached.IsWhole)) return false;
        copy.Lease!.Representative = copy.Page;
        return true;
    }

    private bool IsCurrent(SiloLease lease) => _leases.GetValueOrDefault(lease.Silo) == lease;

    /// <summary>
    /// Takes in a grant that answered a request sent at <paramref name="sentAt"/>, and returns the lease that covers
    /// what the request fetched: the silo's current lease, extended, or a new one if the grant starts a new term. A
    /// grant from a term already left behind covers nothing (a lease that never becomes valid).
    /// </summary>
    private SiloLease Accept(LeaseGrant grant, long sentAt)
    {
        _leaseMilliseconds = grant.LeaseMilliseconds;
        SiloLease lease;
        lock (_leases)
        {
            var current = _leases.GetValueOrDefault(grant.Silo);
            if (current is not null && grant.Term < current.Term) return new SiloLease(grant.Silo, grant.Term);
            lease = current is not null && grant.Term == current.Term ? current : _leases[grant.Silo] = new SiloLease(grant.Silo, grant.Term);
        }
        lease.Extend(sentAt, grant.LeaseMilliseconds);
        return lease;
    }

    /// <summary>
    /// Reads the whole page for a Bounded region, without registering as a holder (writers never wait for Bounded
    /// readers), and caches it until <paramref name="maxStaleness"/> after the read was sent.
    /// </summary>
    public Task<CachedPage> FillBoundedAsync(long page, long epoch, int pageSize, TimeSpan maxStaleness, CancellationToken cancellation) =>
        FillThroughFenceAsync(page, async () =>
        {
            var sentAt = _clock.GetTimestamp();
            var bytes = await _pages[page].Read(epoch, 0, pageSize, cancellation);
            var freshUntil = sentAt + (long)(maxStaleness.TotalSeconds * _clock.TimestampFrequency);
            return new CachedPage(page, epoch, 0, bytes.Value, null, freshUntil);
        },
        // A Bounded copy carries no version: any own write during the read may be missing from it.
        (copy, fence, writesBefore) => fence.Writes == 0 && fence.WritesStarted == writesBefore ? copy : null);

    /// <summary>
    /// Runs one fill of <paramref name="page"/> inside the page's fence: <paramref name="fetch"/> reads it, and
    /// <paramref name="admit"/>, called under the lock with the fence as it stands when the copy arrives and the count
    /// of own writes started before the fill began, decides whether the copy may be cached.
    /// </summary>
    private async Task<CachedPage> FillThroughFenceAsync(long page, Func<Task<CachedPage>> fetch, Func<CachedPage, Fence, long, CachedPage?> admit)
    {
        Metrics.Miss();
        Fence fence;
        long writesBefore;
        lock (_gate)
        {
            if (!_fences.TryGetValue(page, out fence!)) _fences[page] = fence = new Fence();
            fence.Fills++;
            writesBefore = fence.WritesStarted;
        }
        try
        {
            var entry = await fetch();
            lock (_gate)
                if (admit(entry, fence, writesBefore) is { } admitted)
                {
                    Install(admitted);
                    fence.Holes.RemoveAll(hole => hole.Version <= admitted.Version);
                }
            return entry;
        }
        finally
        {
            lock (_gate)
            {
                fence.Fills--;
                ForgetIfIdle(page, fence);
            }
        }
    }

    /// <summary>
    /// Drops the copy of <paramref name="page"/> if it is older than <paramref name="version"/>, and keeps fills in
    /// flight from installing one. Given the <paramref name="hole"/> that alone the write making
    /// <paramref name="version"/> changed, a Strict copy of the version before stays instead, as a copy of this version
    /// that serves every other byte it served (see <see cref="CachedPage.Revoked"/>; with the hole's new
    /// <paramref name="bytes"/>, it serves them too from the next revocation on), unless it lacks
    /// <see cref="CachedPage.MaxBlockedRanges"/> ranges already; with no copy but a fill in flight, the hole is
    /// remembered for the fill's copy. Returns whether a copy of this version or a newer one is kept (or may be, once
    /// the fill lands), which tells the page whether this session still holds the page.
    /// </summary>
    public bool Revoke(long page, long version, (int Offset, int Length)? hole = null, byte[]? bytes = null)
    {
        var revocation = hole is var (offset, length) ? new PageRevocation(page, version, offset, length, bytes) : new PageRevocation(page, version, 0, 0, null);
        lock (_gate) return RevokeLocked(revocation);
    }

    /// <summary>
    /// <see cref="Revoke(long, long, ValueTuple{int, int}?, byte[])"/> for each of a call's revocations, in order, under
    /// one taking of the lock (a batch carries several, and the lock is contended by this client's reads and writes). A
    /// revocation that continues a run (<see cref="PageRevocation.Continues"/>) steps the copy the one before it left,
    /// keeping the bytes held back by each.
    /// </summary>
    public bool[] Revoke(PageRevocation[] revocations)
    {
        var kept = new bool[revocations.Length];
        lock (_gate)
        {
            for (var i = 0; i < revocations.Length; i++) kept[i] = RevokeLocked(revocations[i]);
        }
        return kept;
    }

    private bool RevokeLocked(PageRevocation revocation)
    {
        var (page, version, _, _, bytes, continues) = revocation;
        (int Offset, int Length)? hole = revocation.Length == 0 ? null : (revocation.Offset, revocation.Length);
        Metrics.InvalidationReceived();
        if (_fences.TryGetValue(page, out var fence)) fence.Revoked = Math.Max(fence.Revoked, version);
        if (!_entries.TryGetValue(page, out var entry))
        {
            // A fill in flight may bring the version before: it will be cached as this one, without the hole.
            if (hole is (var start, var size) && fence is { Fills: > 0 } && fence.Holes.Count < CachedPage.MaxBlockedRanges)
            {
                fence.Holes.Add(new Hole(version, start, start + size, bytes, continues));
                return true;
            }
            return false;
        }
        // A run counts once toward the revocations a copy went through unread, at its first revocation (which may be of
        // this client's own write, and find the copy current already).
        if (!continues) entry.CountRevocation();
        if (entry.Version >= version) return true;
        // With none of this client's writes in flight, every range the copy lacks was revoked: a hole inside one of
        // them costs nothing more (a hot element written again and again does not use up the copy). A copy that went
        // unread through several revocations goes instead: each write to the page waits for this client's answer,
        // which buys nothing while nobody reads the copy (a client that only adds to an element it read once, say).
        if (hole is (var offset, var length) && entry.Version == version - 1 && entry.Lease is not null && entry.UnreadRevocations <= CachedPage.UnreadRevocationsKept
            && entry.Revoked(version, offset, length, bytes, lackedAlready: fence is not { Writes: > 0 }, continues) is { } kept)
        {
            Replace(page, entry, kept);
            return true;
        }
        Remove(page, entry);
        return false;
    }

    /// <summary>
    /// Before this client writes <paramref name="range"/> of a page (the whole page when null): the copy stops serving
    /// the written range, or goes altogether when the write covers the whole page or the copy lacks too many ranges
    /// already, and a fill that lands while the write runs is cached without it (see <see cref="Admitted"/>). The copy
    /// as it was is kept as the basis the write's own change may apply to.
    /// </summary>
    public void BeginWrite(long page, (int Offset, int Length)? range = null)
    {
        lock (_gate)
        {
            if (!_fences.TryGetValue(page, out var fence)) _fences[page] = fence = new Fence();
            fence.Writes++;
            fence.WritesStarted++;
            if (range is (var offset, var length) && fence.Writing.Count < CachedPage.MaxBlockedRanges) fence.Writing.Add((offset, offset + length));
            else fence.RefusesFills = true;
            _entries.TryGetValue(page, out var entry);
            // With two own writes in flight, neither knows which the other's change follows.
            fence.Basis = fence.Writes == 1 ? entry : null;
            if (entry is null) return;
            // The other bytes of the page stay readable: only another session's write changes them, and it revokes the copy.
            if (range is (var start, var size) && entry.BlockedRanges < CachedPage.MaxBlockedRanges) Replace(page, entry, entry.Blocking(start, size));
            else Remove(page, entry);
        }
    }

    /// <summary>
    /// Whether <see cref="EndWrite"/> of the write in flight on <paramref name="page"/> could use a change: it is the
    /// page's only write and a copy was cached when it began. A caller that must copy bytes to describe its change
    /// asks first; a false answer is final, a true one may still come to nothing.
    /// </summary>
    public bool MayUpdateInPlace(long page)
    {
        lock (_gate) return _fences.TryGetValue(page, out var fence) && fence is { Writes: 1, Basis: not null };
    }

    /// <summary>
    /// After this client's write of a page: fills still in flight may install only copies at least as new as the
    /// version the write produced (all of them refused when the write failed and its version is unknown). Once no write
    /// of the page is in flight, the copy kept meanwhile serves the written ranges again if it is as new as the writes,
    /// or the version just before the newest, which the write's <paramref name="change"/> brings up to date (nobody
    /// else can have written in between); otherwise it goes. A copy dropped when a whole-page write began is brought
    /// up to date the same way.
    /// </summary>
    public void EndWrite(long page, long? version, PageChange? change = null)
    {
        lock (_gate)
        {
            var fence = _fences[page];
            fence.Writes--;
            // A revocation at or past the written version came from a page that counted this client's copy as older
            // than the write (its record of the copy was replaced by a fill's meanwhile) and has stopped tracking it:
            // a copy made here would never be revoked again.
            var revokedPastWrite = version is { } produced && fence.Revoked >= produced;
            fence.Revoked = Math.Max(fence.Revoked, version ?? long.MaxValue);
            if (fence.Writes == 0)
            {
                var basis = fence.Basis;
                var writing = fence.Writing.ToArray();
                (fence.Basis, fence.RefusesFills) = (null, false);
                fence.Writing.Clear();
                if (_entries.TryGetValue(page, out var current))
                {
                    // The copy kept through the writes, lacking their ranges. As new as all of them, it holds their bytes
                    // or lacks them (a version reached through revocations lacks each range it skipped); the version just
                    // before the newest write, when that write is the newest change seen, is brought up to it by the
                    // write's own change. Either way it serves the written ranges again; any other copy goes.
                    var kept = current.Version >= fence.Revoked ? current
                        : version == fence.Revoked && current.Version == version - 1 && change is not null && !revokedPastWrite ? current.Changed(version.Value, change)
                        : null;
                    if (kept is not null && (kept == current || Admits(fence, kept)))
                    {
                        Replace(page, current, kept.Without(writing));
                        if (kept != current) Metrics.Updated();
                    }
                    else Remove(page, current);
                }
                // No copy was kept (the write covered the whole page): the one it began with may be brought up to date.
                else if (version is { } written && change is not null && basis is not null && basis.Version == written - 1 && !revokedPastWrite
                    && basis.Changed(written, change) is { } updated && Admits(fence, updated))
                {
                    Install(updated);
                    Metrics.Updated();
                }
            }
            ForgetIfIdle(page, fence);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await _stopping.CancelAsync();
        try
        {
            await _renewals;
        }
        catch (OperationCanceledException)
        {
        }
        _stopping.Dispose();
        Metrics.Dispose();
    }

    /// <summary>
    /// Adds or replaces a page's entry, first evicting enough to make room for it. Called under the lock, which every
    /// install takes, and the byte count grows only after the room is made: the cache never holds more than its
    /// budget, at any instant and under any access pattern. A page larger than the whole budget is not kept.
    /// </summary>
    private void Install(CachedPage entry)
    {
        if (!_keepsBytes) entry = entry.WithoutBytes();
        if (_entries.TryGetValue(entry.Page, out var replaced)) Remove(entry.Page, replaced);
        if (entry.Cost > _budget) return;
        EvictDownTo(_budget - entry.Cost);
        if (_entries.TryAdd(entry.Page, entry))
        {
            Volatile.Write(ref _count, _count + 1);
            Interlocked.Add(ref _bytes, entry.Cost);
            _evictionQueue.Enqueue(entry.Page);
        }
        if (_evictionQueue.Count > 2 * _count + 64) CompactEvictionQueue();
    }

    /// <summary>
    /// Drops the queue's places of pages no longer cached (revoked, replaced), which only eviction would otherwise
    /// consume: a page written and read again and again under budget would grow the queue without end. Amortized
    /// over the installs that made the queue twice the entries. Called under the lock.
    /// </summary>
    private void CompactEvictionQueue()
    {
        var kept = new HashSet<long>();
        for (var places = _evictionQueue.Count; places > 0 && _evictionQueue.TryDequeue(out var page); places--)
            if (_entries.ContainsKey(page) && kept.Add(page)) _evictionQueue.Enqueue(page);
    }

    /// <summary>
    /// Puts <paramref name="replacement"/>, a copy of the same page, in place of exactly <paramref name="entry"/>, which
    /// is marked for readers that hold it. A replacement that costs more (changes laid over its bytes) may evict other
    /// copies to stay within the budget. Called under the lock.
    /// </summary>
    private void Replace(long page, CachedPage entry, CachedPage replacement)
    {
        if (!_entries.TryUpdate(page, replacement, entry)) return;
        entry.MarkRemoved();
        if (replacement.Cost == entry.Cost) return;
        Interlocked.Add(ref _bytes, replacement.Cost - entry.Cost);
        EvictDownTo(_budget);
    }

    /// <summary>
    /// Takes out exactly <paramref name="entry"/>, if it is still the page's entry, and marks it for readers that hold
    /// it. Called under the lock.
    /// </summary>
    private void Remove(long page, CachedPage entry)
    {
        if (!_entries.TryRemove(KeyValuePair.Create(page, entry))) return;
        Volatile.Write(ref _count, _count - 1);
        entry.MarkRemoved();
        Interlocked.Add(ref _bytes, -entry.Cost);
    }

    /// <summary>Forgets a page's fence once no fill or write of it is in flight. Called under the lock.</summary>
    private void ForgetIfIdle(long page, Fence fence)
    {
        if (fence is { Fills: 0, Writes: 0, Basis: null }) _fences.Remove(page);
    }

    /// <summary>
    /// A clock sweep down to <paramref name="bytes"/>: an entry hit since the last pass gets a second chance, one not
    /// hit goes. Readers keep setting the hit bits meanwhile, so after one full turn of second chances entries go
    /// whatever their bits, and the sweep ends even when every page is hot. Every live entry has a place in the
    /// queue, so it ends at or under <paramref name="bytes"/>. Called under the lock.
    /// </summary>
    private void EvictDownTo(long bytes)
    {
        var secondChances = _evictionQueue.Count;
        while (Bytes > bytes && _evictionQueue.TryDequeue(out var page))
        {
            if (!_entries.TryGetValue(page, out var entry)) continue;
            if (entry.Referenced && secondChances-- > 0)
            {
                entry.Referenced = false;
                _evictionQueue.Enqueue(page);
            }
            else
            {
                Remove(page, entry);
                Metrics.Evicted();
            }
        }
    }

    /// <summary>
    /// Renews the lease of every silo this cache holds pages of, every half lease: one call per silo, whatever the
    /// number of pages, early enough that a renewal lands before the lease it extends runs out.
    /// </summary>
    private async Task RenewLeasesAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(_leaseMilliseconds / 2.0), stopping);
            foreach (var lease in _leases.Values)
            {
                if (RepresentativeOf(lease) is not { } page) continue;
                var sentAt = LeaseClock.NowMilliseconds;
                try
                {
                    // A representative that moved renews its new silo; this silo's copies then lapse and refill.
                    Accept(await _pages[page].Renew(Session).WaitAsync(stopping), sentAt);
                    Metrics.Renewed();
                }
                catch (Exception) when (!stopping.IsCancellationRequested)
                {
                    // The lease lapses on its own; copies stop being served when it does. A call cancelled or timed
                    // out (OperationCanceledException included) must not end the loop: renewals would stop for good.
                }
            }
        }
    }

    /// <summary>A page cached under <paramref name="lease"/> to renew it through, or null when none is left.</summary>
    private long? RepresentativeOf(SiloLease lease)
    {
        if (_entries.TryGetValue(lease.Representative, out var entry) && entry.Lease == lease) return lease.Representative;
        foreach (var (page, candidate) in _entries)
        {
            if (candidate.Lease != lease) continue;
            lease.Representative = page;
            return page;
        }
        return null;
    }

    /// <summary>Bookkeeping for one page while fills or own writes of it are in flight.</summary>
    private sealed class Fence
    {
        /// <summary>Fills of the page in flight.</summary>
        public int Fills;

        /// <summary>This client's writes of the page in flight.</summary>
        public int Writes;

        /// <summary>This client's writes of the page started while the fence existed.</summary>
        public long WritesStarted;

        /// <summary>No copy older than this version may be installed.</summary>
        public long Revoked;

        /// <summary>
        /// The copy cached when this client's only write of the page began: if the write dropped it (a whole-page
        /// write), the write's own change may bring it up to date.
        /// </summary>
        public CachedPage? Basis;

        /// <summary>The ranges this client's writes of the page have written since none was in flight; a copy fetched meanwhile does not serve them.</summary>
        public readonly List<(int Start, int End)> Writing = [];

        /// <summary>Whether no copy fetched meanwhile may be cached: one of those writes covers the whole page, or they are too many to list.</summary>
        public bool RefusesFills;

        /// <summary>The ranges (and bytes, when sent) that revocations of versions newer than any copy cached named while fills were in flight.</summary>
        public readonly List<Hole> Holes = [];
    }

    /// <summary>What the write making <see cref="Version"/> changed: bytes [Start, End), to <see cref="Bytes"/> when the revocation sent them.</summary>
    private readonly record struct Hole(long Version, int Start, int End, byte[]? Bytes, bool Continues);
}
