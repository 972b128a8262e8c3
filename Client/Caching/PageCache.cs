using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using OrleansDsm.Arrays;
using OrleansDsm.Direct;

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
internal sealed partial class PageCache : IAsyncDisposable
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
    private int _leaseMilliseconds;
    // Completed by the first grant, whose lease times the renewals: a guess made before it could be longer than the
    // cluster's lease, and a first renewal timed by it came after the first copies' lease had run out.
    private readonly TaskCompletionSource _firstGrant = new(TaskCreationOptions.RunContinuationsAsynchronously);
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

    /// <summary>Applies revocations that came over the direct channel, as the observer applies those called.</summary>
    public bool[] ApplyRevocations(PageRevocation[] revocations) => _holder.Apply(revocations);

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
    /// cached, serves bytes [offset, offset + length) and is valid: the checks of
    /// <see cref="TryGet(long, long, int, int, out CachedPage)"/> without its lookup.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryHit(CachedPage entry, int offset, int length) => (entry.ServesWhole || !entry.Removed && entry.Serves(offset, length)) && Hit(entry);

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

    /// <summary>
    /// The client's direct channel, for fills: set once, by the client that made this cache, before its first fill.
    /// Without it, or with no connection open, fills are Orleans calls.
    /// </summary>
    public Direct.DirectChannel? Direct { get; set; }

    /// <summary>
    /// Whether a fill's caller resumes on the direct connection's receiving thread rather than on the thread pool: one
    /// thread's wake-up less for each fill. Only for a client whose fills' callers are brief and never wait for another
    /// reply (the pager's, which copy the page into the mapping and return), since the connection receives nothing
    /// meanwhile. Fills made as Orleans calls resume as before.
    /// </summary>
    public bool ResumeFillsOnReceivingThread { get; init; }

    /// <summary>
    /// Reads the whole page from its grain, registering this session as a holder, and caches it unless overtaken. The
    /// fill takes the direct channel when it is open; one the silo did not make there (it does not know this session's
    /// holder yet, or the page gave way) is made again as the call, which a fill may be, since it changes nothing a
    /// second one would not.
    /// </summary>
    public Task<CachedPage> FillAsync(long page, long epoch, CancellationToken cancellation)
    {
        var fill = FillThroughFenceAsync(page, async () =>
        {
            var sentAt = LeaseClock.NowMilliseconds;
            var copy = await FillDirectAsync(page, epoch, cancellation) ?? await _pages[page].Fill(epoch, Session, Holder, cancellation);
            return new CachedPage(page, epoch, copy.Version, copy.Bytes, Accept(copy.Lease, sentAt), 0);
        }, (entry, fence, _) => Admitted(fence, entry));
        if (!fill.IsCompleted)
        {
            _fills[page] = fill;
            fill.ContinueWith(done => _fills.TryRemove(KeyValuePair.Create(page, (Task)done)), TaskScheduler.Default);
        }
        return fill;
    }

    /// <summary>The page's copy through the direct channel, or null when there is none open or the silo did not fill it there.</summary>
    private async Task<Pages.PageCopy?> FillDirectAsync(long page, long epoch, CancellationToken cancellation)
    {
        if (Direct is not { } channel || channel.For(page) is not { } connection) return null;
        var (reply, copy) = await connection.FillAsync(new DirectRequest(0, DirectOperation.Fill, 0, epoch, page, 0, 0, 0, channel.Number), ResumeFillsOnReceivingThread)
            .WaitAsync(cancellation);
        // A fill refused because the page is elsewhere (and this session's cache not yet named there) teaches as much.
        channel.Replied(page, connection, reply);
        if (copy is null) return null;
        channel.CountServed();
        return copy;
    }

    /// <summary>
    /// The Strict fill of <paramref name="page"/> in flight, if any: a read that misses meanwhile may wait for it and
    /// look in the cache again instead of fetching the page once more. It must not take that fill's copy as its own
    /// answer: a write may have completed between the fill's read and this read's start, and only a copy the cache
    /// admitted, and still holds valid when looked at, is known to be the latest.
    /// </summary>
    public Task? FillInFlight(long page) => _fills.GetValueOrDefault(page);

    private bool IsCurrent(SiloLease lease) => _leases.GetValueOrDefault(lease.Silo) == lease;

    /// <summary>
    /// Takes in a grant that answered a request sent at <paramref name="sentAt"/>, and returns the lease that covers
    /// what the request fetched: the silo's current lease, extended, or a new one if the grant starts a new term. A
    /// grant from a term already left behind covers nothing (a lease that never becomes valid).
    /// </summary>
    private SiloLease Accept(LeaseGrant grant, long sentAt)
    {
        _leaseMilliseconds = grant.LeaseMilliseconds;
        _firstGrant.TrySetResult();
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
    /// Renews the lease of every silo this cache holds pages of, every half lease from the first grant on: one call per
    /// silo, whatever the number of pages, early enough that a renewal lands before the lease it extends runs out.
    /// </summary>
    private async Task RenewLeasesAsync(CancellationToken stopping)
    {
        await _firstGrant.Task.WaitAsync(stopping);
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
                catch (Exception)
                {
                    // Stopping: whatever the call's outcome (a renewal to a dead silo may fail just as the cache is
                    // disposed), the loop ends without it, so disposing never throws it.
                    if (stopping.IsCancellationRequested) return;
                    // Otherwise the lease lapses on its own; copies stop being served when it does. A call cancelled
                    // or timed out (OperationCanceledException included) must not end the loop: renewals would stop
                    // for good.
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
}
