using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using OrleansDsm.Caching;
using OrleansDsm.Direct;

namespace OrleansDsm.Arrays;

// How an array reads through its client's page cache: the index of recent hits that lets a hit skip the cache's
// lookup, fills on a miss (joining a fill of the same page already in flight), prefetching after consecutive misses,
// and range reads served from cached copies.
public sealed partial class SharedArray<T>
{
    /// <summary>
    /// The element read's fast path: the element from a copy of the whole page in this handle's index of recent hits
    /// (its bytes, or a change of this client's laid over them), valid under its silo's lease (checked on every call),
    /// counted as a hit. False, and nothing counted, for anything else: a Release region (its own writes come first), a
    /// Bounded copy, a page never written, a page not in the index; the caller then looks elsewhere, so this path stays
    /// a few dozen instructions with no call.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryReadRecentStrict(long page, int offset, out T value)
    {
        value = default;
        var recent = _recentHits;
        if (recent is null || _buffer is not null) return false;
        // The index's length is a power of two, so the masked page is within it.
        ref readonly var slot = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(recent), (int)page & (recent.Length - 1));
        // The slot's two fields are read apart, and another thread may be filling it meanwhile: the bytes serve only if
        // they are the entry's own.
        var (entry, bytes) = (slot.Entry, slot.Bytes);
        if (bytes is null || entry is null || entry.Page != page || !entry.ServesEvery || !ReferenceEquals(entry.BytesBeneath, bytes)
            || entry.Lease is not { } lease || LeaseClock.NowNanoseconds >= lease.ValidUntilNanoseconds) return false;
        if (!entry.Referenced) entry.Referenced = true;
        CacheMetrics.Hit(_hitStripes!);
        // The offset lies within the page: Locate made it so. A copy this client wrote since it was cached lays the
        // write's change over its bytes, and is read through it where the change may touch the element. Elsewhere the
        // element is read from the slot's bytes, not the copy's (the same array), so that the processor may load it
        // before the copy's fields arrive: over pages written once, random reads took 7.5 to 7.6 ns so against 9.3 to
        // 9.8 ns in three pairs of `bench/run.sh --only CachedReads` runs taking turns.
        value = entry.ChangesMayTouch<T>(offset) ? entry.ReadApplied<T>(offset) : Unsafe.ReadUnaligned<T>(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(bytes), offset));
        return true;
    }

    /// <summary>Reads one element from a valid cached copy of its page, if there is one: the lease is checked on every call.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryReadCached(long page, int offset, out T value)
    {
        var recent = _recentHits;
        if (recent is not null)
        {
            var entry = recent[(int)page & (recent.Length - 1)].Entry;
            // A copy that lacks some bytes (another session's write changed them) serves the others from here too,
            // without looking the page up again in the cache.
            if (entry is not null && entry.Page == page && _cache!.TryHit(entry, offset, ElementCodec<T>.Size))
            {
                value = entry.Read<T>(offset);
                return true;
            }
        }
        return TryReadCachedIndex(page, offset, out value);
    }

    /// <summary>A read the handle's own index missed: the cache's index, and the entry found remembered here.</summary>
    private bool TryReadCachedIndex(long page, int offset, out T value)
    {
        if (_cache is null || !_cache.TryGet(page, Region.Epoch, offset, ElementCodec<T>.Size, out var entry))
        {
            value = default;
            return false;
        }
        var recent = _recentHits ??= new RecentHit[RecentHitSlotsFor(Region)];
        recent[(int)page & (recent.Length - 1)] = new RecentHit(entry, entry.BytesBeneath);
        value = entry.Read<T>(offset);
        return true;
    }

    private async ValueTask<T> GetFromPageAsync(long page, int offset, CancellationToken cancellation)
    {
        try
        {
            if (_cache is not null)
            {
                // Another read of this page is fetching it: wait for that and look again, rather than fetch it twice.
                if (_cache.FillInFlight(page) is { } inFlight)
                {
                    try
                    {
                        await _retry.WaitForAsync(inFlight, cancellation);
                    }
                    catch (Exception) when (!cancellation.IsCancellationRequested)
                    {
                        // Its failure, or the gateway it may have gone through, is that read's; this one fetches for itself below.
                    }
                    if (TryReadCached(page, offset, out var cached)) return cached;
                }
                if (Interlocked.Exchange(ref _lastMissedPage, page) == page - 1) Prefetch(page + 1, _cache);
                return (await _retry.RunAsync(() => FillAsync(_cache, page, cancellation), cancellation)).Read<T>(offset);
            }
            if (ElementCodec<T>.IsWord && Direct?.For(page) is { } direct)
            {
                var reply = await direct.SendAsync(new DirectRequest(0, DirectOperation.Get, ElementCodec<T>.Size, Region.Epoch, page, offset, 0, 0, Direct.Number))
                    .WaitAsync(cancellation);
                Direct.Replied(page, direct, reply);
                if (reply.Status == DirectStatus.Done)
                {
                    Direct.CountServed();
                    return ElementCodec<T>.FromBits(reply.Value);
                }
            }
            if (ElementCodec<T>.IsWord)
                return ElementCodec<T>.FromBits(await _retry.RunAsync(() => _pages[page].ReadElement(Region.Epoch, offset, ElementCodec<T>.Size, cancellation), cancellation));
            return MemoryMarshal.Read<T>((await _retry.RunAsync(() => _pages[page].Read(Region.Epoch, offset, ElementCodec<T>.Size, cancellation), cancellation)).Value);
        }
        catch (RegionFreedException)
        {
            throw Freed();
        }
    }

    private Task<CachedPage> FillAsync(PageCache cache, long page, CancellationToken cancellation) =>
        Region.Consistency.Kind == ConsistencyKind.Bounded
            ? cache.FillBoundedAsync(page, Region.Epoch, Region.PageSize, Region.Consistency.MaxStaleness, cancellation)
            : cache.FillAsync(page, Region.Epoch, cancellation);

    /// <summary>Starts filling the pages from <paramref name="first"/> on that the cache lacks, up to the prefetch depth and the region's end.</summary>
    private void Prefetch(long first, PageCache cache)
    {
        var end = Math.Min(first + cache.PrefetchPages, Region.FirstPage + Region.PageCount);
        for (var page = first; page < end; page++)
            if (!cache.Holds(page, Region.Epoch)) _ = PrefetchOneAsync(cache, page);
    }

    private async Task PrefetchOneAsync(PageCache cache, long page)
    {
        try
        {
            await FillAsync(cache, page, CancellationToken.None);
        }
        catch (Exception)
        {
            // A prefetch is only a guess; the read that needs the page will fetch it and report any error.
        }
    }

    /// <summary>
    /// Reads a short range through the cache: each page from a valid copy, or filled (all at once) and then kept. Each
    /// page's part is read atomically, as with an uncached range read.
    /// </summary>
    private async Task FillAndReadAsync(PageCache cache, long start, Memory<T> destination, CancellationToken cancellation)
    {
        var first = start * ElementCodec<T>.Size;
        var firstPage = Region.FirstPage + (first >> _shift);
        var copies = await Task.WhenAll(Enumerable.Range(0, (int)PagesOf(start, destination.Length)).Select(i =>
            cache.TryGet(firstPage + i, Region.Epoch, out var held)
                ? Task.FromResult(held)
                : _retry.RunAsync(() => FillAsync(cache, firstPage + i, cancellation), cancellation)));
        var bytes = MemoryMarshal.AsBytes(destination.Span);
        for (int i = 0, done = 0; done < bytes.Length; i++)
        {
            var offset = (int)((first + done) & _pageMask);
            var length = Math.Min(Region.PageSize - offset, bytes.Length - done);
            copies[i].CopyTo(offset, bytes.Slice(done, length));
            done += length;
        }
    }

    /// <summary>Serves a range read from the cache when every page it touches has a valid copy.</summary>
    private bool TryReadCached(long start, Span<T> destination)
    {
        if (_cache is null || destination.IsEmpty) return false;
        var first = start * ElementCodec<T>.Size;
        var bytes = MemoryMarshal.AsBytes(destination);
        var entries = new CachedPage[(int)(((first + bytes.Length - 1) >> _shift) - (first >> _shift) + 1)];
        for (var i = 0; i < entries.Length; i++)
            if (!_cache.TryGet(Region.FirstPage + (first >> _shift) + i, Region.Epoch, out entries[i])) return false;
        for (int i = 0, done = 0; done < bytes.Length; i++)
        {
            var offset = (int)((first + done) & _pageMask);
            var length = Math.Min(Region.PageSize - offset, bytes.Length - done);
            entries[i].CopyTo(offset, bytes.Slice(done, length));
            done += length;
        }
        return true;
    }

    /// <summary>
    /// A slot of the index of recent hits: the copy, and its bytes beside it, so that a hit loads the element's page
    /// straight from the slot while it checks the copy, instead of only after loading the copy (one of up to a
    /// thousand). Random reads took 6.3 and 6.5 ns so, against 7.7 and 6.8 ns with the bytes taken from the copy, in
    /// alternating runs of <c>bench/run.sh --only CachedReads</c>.
    /// </summary>
    private readonly record struct RecentHit(CachedPage? Entry, byte[]? Bytes);

    /// <summary>A power of two: enough for the region's pages, within RecentHitSlots and RecentHitBytes.</summary>
    private static int RecentHitSlotsFor(RegionDescriptor region)
    {
        var slots = Math.Min(Math.Min(RecentHitSlots, RecentHitBytes / region.PageSize), region.PageCount);
        return (int)BitOperations.RoundUpToPowerOf2((ulong)Math.Max(1, slots));
    }
}
