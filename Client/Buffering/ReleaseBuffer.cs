using OrleansDsm.Arrays;
using OrleansDsm.Caching;
using OrleansDsm.Connection;
using OrleansDsm.Pages;

namespace OrleansDsm.Buffering;

/// <summary>
/// One client's unreleased writes to Release regions, by page. A release sends each dirty page's changed bytes in one
/// call (<see cref="IPageGrain.WriteRuns"/>), all pages at once, and returns when every page has stored its part; a
/// page whose writes changed nothing (see <see cref="DirtyPage"/>) costs no call.
/// Until a page's release is acknowledged its bytes stay readable here, so the client always reads its own writes.
/// Releases run one at a time, so two releases of one page never overtake each other. Thread-safe.
/// </summary>
internal sealed class ReleaseBuffer(PageReferences pages, PageCache? cache, TransientRetry retry, ReleaseMetrics metrics)
{
    private readonly Lock _gate = new();
    // Written since the last release began.
    private readonly Dictionary<long, DirtyPage> _pending = [];
    // Being released: still read back until their pages acknowledge them.
    private readonly Dictionary<long, DirtyPage> _releasing = [];
    private readonly SemaphoreSlim _releases = new(1, 1);
    // The twin of a cached page never written (which the cache holds without bytes); never changed.
    private byte[]? _zeros;
    private readonly PageBufferPool _buffers = new();

    public ReleaseMetrics Metrics { get; } = metrics;

    /// <summary>Whether some page holds unreleased writes; a cheap check readers make before looking any further.</summary>
    public bool IsEmpty
    {
        get
        {
            lock (_gate) return _pending.Count == 0 && _releasing.Count == 0;
        }
    }

    /// <summary>
    /// Keeps <paramref name="bytes"/> as written at <paramref name="offset"/> of <paramref name="page"/>, or returns false
    /// when the page holds unreleased writes of another allocation or another lock hold: the caller releases the page
    /// (<see cref="ReleasePageAsync"/>) and tries again, so each release call carries one epoch and one hold.
    /// </summary>
    public bool TryWrite(long page, long epoch, int pageSize, RequestIds requests, int offset, ReadOnlySpan<byte> bytes)
    {
        lock (_gate)
        {
            // A release of the page under another epoch or hold that fails comes back to _pending: wait for it.
            if (_releasing.TryGetValue(page, out var releasing) && !Matches(releasing, epoch, requests)) return false;
            if (!_pending.TryGetValue(page, out var dirty))
                _pending[page] = dirty = new DirtyPage(page, epoch, pageSize, requests, Twin(page, epoch, pageSize), _buffers);
            if (!Matches(dirty, epoch, requests)) return false;
            dirty.Write(offset, bytes);
            return true;
        }
    }

    /// <summary>
    /// At an acquire (a lock granted, a barrier passed): the twins of pages with unreleased writes may predate what
    /// the releasing process wrote, so from here each such page sends every byte written, not only those that differ.
    /// </summary>
    public void Acquired()
    {
        lock (_gate)
        {
            // A release in flight that fails comes back to _pending with its twin: that one predates the acquire too.
            foreach (var dirty in _pending.Values) dirty.ForgetTwin();
            foreach (var dirty in _releasing.Values) dirty.ForgetTwin();
        }
    }

    /// <summary>Copies the element at <paramref name="offset"/> from this client's unreleased writes, if they cover it.</summary>
    public bool TryRead(long page, long epoch, int offset, Span<byte> element)
    {
        lock (_gate)
        {
            // The pending writes are newer than those being released.
            return TryCopy(_pending, page, epoch, offset, element) || TryCopy(_releasing, page, epoch, offset, element);
        }
    }

    /// <summary>Puts this client's unreleased writes over <paramref name="destination"/>, which holds bytes from <paramref name="offset"/> of <paramref name="page"/>.</summary>
    public void LayOver(long page, long epoch, int offset, Span<byte> destination)
    {
        lock (_gate)
        {
            if (_releasing.TryGetValue(page, out var releasing) && releasing.Epoch == epoch) releasing.LayOver(offset, destination);
            if (_pending.TryGetValue(page, out var pending) && pending.Epoch == epoch) pending.LayOver(offset, destination);
        }
    }

    /// <summary>
    /// Releases every page written so far: one call per page, all at once. A page whose release failed keeps its
    /// writes, under any made since, for the next release to send again; the first failure is thrown. A freed region's
    /// writes are dropped with it.
    /// </summary>
    public Task ReleaseAsync(CancellationToken cancellation) => SendAsync(null, null, cancellation);

    /// <summary>
    /// Releases <paramref name="page"/> (waiting for a release of it in flight) before an operation of allocation
    /// <paramref name="epoch"/> under <paramref name="requests"/>' hold uses it. The page may hold writes of another
    /// allocation of the same address, freed since, or of a hold that ended: those are dropped as any release drops
    /// them, and their refusal is not thrown to this caller, whose own region and hold it does not concern.
    /// </summary>
    public Task ReleasePageAsync(long page, long epoch, RequestIds requests, CancellationToken cancellation) =>
        SendAsync(page, (epoch, requests), cancellation);

    private async Task SendAsync(long? onlyPage, (long Epoch, RequestIds Requests)? caller, CancellationToken cancellation)
    {
        lock (_gate)
        {
            // Atomic operations on Release pages ask this every time: most find nothing to wait for.
            if (onlyPage is { } only ? !_pending.ContainsKey(only) && !_releasing.ContainsKey(only) : _pending.Count == 0 && _releasing.Count == 0)
                return;
        }
        await _releases.WaitAsync(cancellation);
        var releasing = new List<DirtyPage>();
        try
        {
            var runs = new List<ByteRun[]>();
            lock (_gate)
            {
                foreach (var dirty in _pending.Values)
                    if (onlyPage is null || dirty.Page == onlyPage) releasing.Add(dirty);
                foreach (var dirty in releasing)
                {
                    _pending.Remove(dirty.Page);
                    _releasing[dirty.Page] = dirty;
                    runs.Add(dirty.Runs());
                }
            }
            if (releasing.Count == 0) return;
            var sent = releasing.Select((dirty, i) => runs[i].Length == 0 ? Task.CompletedTask : SendPageAsync(dirty, runs[i], cancellation)).ToArray();
            Metrics.Released(runs.Count(pageRuns => pageRuns.Length > 0));
            try
            {
                await Task.WhenAll(sent);
            }
            catch when (caller is { } owner && Enumerable.Range(0, releasing.Count).All(i =>
                sent[i].IsCompletedSuccessfully || (!Matches(releasing[i], owner.Epoch, owner.Requests) && CanNeverApply(sent[i]))))
            {
                // Only writes of other allocations or holds failed, which can never apply: dropped below.
            }
            finally
            {
                lock (_gate)
                {
                    for (var i = 0; i < releasing.Count; i++)
                    {
                        var dirty = releasing[i];
                        _releasing.Remove(dirty.Page);
                        // Writes of a freed region, or under a hold that ended, can never be applied.
                        if (sent[i].IsCompletedSuccessfully || CanNeverApply(sent[i]))
                        {
                            dirty.Return();
                            continue;
                        }
                        // Writes made meanwhile share the epoch and hold (WriteAsync waits otherwise) and are newer.
                        if (_pending.TryGetValue(dirty.Page, out var newer))
                        {
                            dirty.TakeNewer(newer);
                            newer.Return();
                        }
                        _pending[dirty.Page] = dirty;
                    }
                }
            }
        }
        finally
        {
            _releases.Release();
        }
    }

    /// <summary>The page as the cache serves it now, if it does: what the first write changes. Cached bytes never change, so they are shared.</summary>
    private byte[]? Twin(long page, long epoch, int pageSize)
    {
        if (cache is null || !cache.TryGet(page, epoch, out var copy)) return null;
        // The bytes as served, changes laid over them included: a twin without them would hide from the diff the bytes
        // this write sets back to what lies beneath.
        return copy.ServedBytes() ?? (_zeros is { } zeros && zeros.Length == pageSize ? zeros : _zeros = new byte[pageSize]);
    }

    private static bool TryCopy(Dictionary<long, DirtyPage> source, long page, long epoch, int offset, Span<byte> element)
    {
        if (!source.TryGetValue(page, out var dirty) || dirty.Epoch != epoch || !dirty.Covers(offset, element.Length)) return false;
        dirty.Slice(offset, element.Length).CopyTo(element);
        return true;
    }

    private static bool CanNeverApply(Task sent) => sent.Exception?.InnerException is RegionFreedException or LockLostException;

    private static bool Matches(DirtyPage dirty, long epoch, RequestIds requests) =>
        dirty.Epoch == epoch && Equals(dirty.Requests.Fence, requests.Fence);

    private async Task SendPageAsync(DirtyPage dirty, ByteRun[] runs, CancellationToken cancellation)
    {
        cache?.BeginWrite(dirty.Page);
        long? version = null;
        try
        {
            var resent = dirty.Sent is not null;
            var request = dirty.Sent ??= dirty.Requests.Next();
            version = await retry.RunAsync(again =>
            {
                Metrics.Sent(runs.Sum(run => run.Bytes.Length));
                return pages[dirty.Page].WriteRuns(dirty.Epoch, again || resent ? request.AsRetry() : request, runs, cancellation);
            }, cancellation);
        }
        finally
        {
            cache?.EndWrite(dirty.Page, null, version, new PageChange(runs));
        }
    }
}
