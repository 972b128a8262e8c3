using System.Diagnostics;
using System.Runtime.InteropServices;
using OrleansDsm.Arrays;
using OrleansDsm.Caching;
using OrleansDsm.Connection;
using OrleansDsm.Errors;
using OrleansDsm.Mapping;
using OrleansDsm.Pages;

namespace OrleansDsm.Pager;

/// <summary>
/// Serves the page faults of one mapped region, in the pager process. A thread reads fault messages from the
/// userfaultfd taken from the client. A missing page is fetched from its page grain and copied in write-protected (or writable and dirty, when
/// a store faulted it in); the first store to a protected page takes a twin of it from this process's own view of the
/// memory file, then unprotects it. A release sends each dirty page's changes, found against its twin, and protects the
/// page again, unless the release before found it dirty too: then it stays writable, with what was sent as its twin.
/// An acquire punches out of the memory file the clean present pages whose copy another process's write has revoked
/// (or whose lease lapsed), so the next touch faults and fetches the fresh copy.
/// </summary>
/// <remarks>
/// Pages are fetched through a page cache of the pager's own (<see cref="PageCache"/>): each page grain then counts the
/// pager as a holder and revokes its copy when another session writes, which is how an acquire knows what is stale.
/// The pager's own releases are written under the cache's session, so they revoke nothing of its own.
/// </remarks>
internal sealed class FaultServer : IDisposable
{
    private const int Enoent = 2, Eintr = 4, Eagain = 11, Eexist = 17;

    private readonly MappingSettings _settings;
    private readonly int _userfaultFd;
    private readonly int _memoryFd;
    private readonly ClientLifeline _lifeline;
    private readonly Thread _reader;
    private volatile bool _stopping;
    private readonly PageReferences _pages;
    private readonly PageCache _cache;
    private readonly TransientRetry _retry;
    private readonly RequestIds _requests;
    private readonly byte[] _zeros;
    private readonly nint _view;
    private readonly Lock _gate = new();
    private readonly HashSet<long> _present = [];
    private readonly Dictionary<long, byte[]> _twins = [];
    // Pages left writable across releases, each with how many releases in a row have found it unchanged since. A page
    // a program writes between every two releases (a stencil's band, say) otherwise takes a write-protect fault and a
    // new twin after each release; one found dirty at two releases in a row is left writable instead, keeps its twin
    // (which each release refreshes to what it sent), and is found dirty by comparing with the twin. It is protected
    // again once its patience of releases in a row found it unchanged: FirstPatience, doubled (up to MostPatience) each
    // time it is protected so, since a program may store the same values again and again (a stencil's cold cells, whose
    // stores change nothing), and each return to writable costs two faults. Measured with Jacobi 512x512 mapped: 6.7 s
    // with every page protected at each release, 3.1 s with a fixed patience of 8, 2.7 s with this doubling one, and
    // 2.5 s never protecting again.
    private readonly Dictionary<long, int> _writable = [];
    private readonly Dictionary<long, int> _patience = [];
    private const int FirstPatience = 8, MostPatience = 512;
    // The pages the last release found dirty.
    private HashSet<long> _dirtyAtLastRelease = [];
    // Pages being fetched, with when each fetch began: the reader fails one that outlasts the fault timeout.
    private readonly Dictionary<long, long> _installing = [];
    // Those of them fetched ahead of a scan that no fault has asked for yet: nothing waits for them, so a failed fetch
    // is dropped (the page faults and is fetched again if touched) instead of ending the client.
    private readonly HashSet<long> _readingAhead = [];
    // Set under the lock once the mapping is let go of: a fetch that ends later copies nothing, since the descriptors
    // are closed (and their numbers may be another file's by then).
    private bool _disposed;
    private long _lastOverdueCheck;
    private long _missingFaults, _writeFaults, _releasedPages, _releasedBytes, _droppedPages, _readAheadPages;
    // What marks a scan for reading ahead (see Install): the page of the last fault, and the page just past the last
    // stretch read ahead, whose fault means the scan has gone through that stretch (its present pages fault no more).
    private long _lastFaulted = -2, _pastReadAhead = -1;

    /// <param name="settings">The mapping.</param>
    /// <param name="userfaultFd">This process's copy of the mapping's userfaultfd.</param>
    /// <param name="memoryFd">This process's copy of the mapping's memory file.</param>
    /// <param name="lifeline">What ends the process that mapped the region when a fault cannot be served.</param>
    /// <param name="grains">The pager's cluster client.</param>
    /// <param name="cache">The pager's page cache, shared by its mappings.</param>
    /// <param name="requests">The ids of the pager's writes, under the cache's session.</param>
    /// <param name="gatewayLoss">The pager's Orleans client's report of lost gateway connections, so faults in flight through one are sent again at once.</param>
    public FaultServer(MappingSettings settings, int userfaultFd, int memoryFd, ClientLifeline lifeline, IGrainFactory grains, PageCache cache, RequestIds requests, GatewayLossSignal? gatewayLoss)
    {
        _settings = settings;
        _userfaultFd = userfaultFd;
        _memoryFd = memoryFd;
        _lifeline = lifeline;
        _pages = new PageReferences(grains);
        _cache = cache;
        _requests = requests;
        _zeros = new byte[settings.PageSize];
        _retry = new TransientRetry(settings.FaultTimeout, TimeSpan.FromMilliseconds(200), gatewayLoss);
        var view = LinuxMemory.mmap(0, (nuint)settings.ByteLength, LinuxMemory.ProtRead | LinuxMemory.ProtWrite,
            LinuxMemory.MapShared | LinuxMemory.MapNoReserve, memoryFd, 0);
        _view = (nint)LinuxMemory.Check(view, "mmap of the memory file");
        // Non-blocking, so a read after a poll that saw no fault (the mapping going away) returns instead of hanging.
        LinuxMemory.Check(LinuxMemory.fcntl(userfaultFd, LinuxMemory.SetStatusFlags, LinuxMemory.NonBlocking), "fcntl(O_NONBLOCK)");
        _reader = new Thread(ReadFaults) { IsBackground = true, Name = $"userfaultfd reader {settings.Id}" };
    }

    /// <summary>
    /// Makes one call down the fetch path before the first fault (a plain read of the first page, which registers
    /// nothing), so that a fresh pager does not make its first faults wait for code to be compiled and connections made.
    /// </summary>
    public Task WarmAsync() => _pages[_settings.FirstPage].Read(_settings.Epoch, 0, _settings.PageSize);

    /// <summary>Starts reading faults on a thread of its own, which blocks in the kernel between them.</summary>
    public void Start() => _reader.Start();

    /// <summary>
    /// Sends every dirty page's changes; answers as the client's <c>PagerProcess</c> expects. Pages changed in one run
    /// each go in batch calls of <see cref="PagedIo.PagesPerBatch"/> pages to their silo (each page's run applied at
    /// once), as range writes do; a page changed in several runs goes in one call of its own, so that the words between
    /// its runs, which another process may be writing, are never sent.
    /// </summary>
    public async Task<string> ReleaseAsync()
    {
        var changed = TakeDirtyPages().Select(dirty => (dirty.Page, dirty.Twin, Runs: PageDiff.Changes(dirty.Twin, dirty.Now)))
            .Where(dirty => dirty.Runs.Length > 0).ToList();
        var sends = changed.Where(dirty => dirty.Runs.Length == 1).Chunk(PagedIo.PagesPerBatch)
            .Concat(changed.Where(dirty => dirty.Runs.Length > 1).Select(dirty => new[] { dirty })).ToList();
        Exception? failure = null;
        await Parallel.ForEachAsync(sends, new ParallelOptions { MaxDegreeOfParallelism = PagedIo.BatchesInFlight }, async (send, _) =>
        {
            try
            {
                await SendAsync(send);
                Interlocked.Add(ref _releasedPages, send.Length);
                Interlocked.Add(ref _releasedBytes, send.Sum(dirty => dirty.Runs.Sum(run => run.Bytes.Length)));
            }
            catch (Exception error)
            {
                // Kept for the next release, unless the region is gone; the older twin covers stores made since.
                if (error is not RegionFreedException)
                    lock (_gate)
                        foreach (var dirty in send) _twins[dirty.Page] = dirty.Twin;
                Interlocked.CompareExchange(ref failure, error, null);
            }
        });
        return failure is null ? "ok" : $"error {failure.GetType().Name}\t{OneLine(failure.Message)}";
    }

    private Task SendAsync((long Page, byte[] Twin, ByteRun[] Runs)[] send)
    {
        if (send is [var alone] && alone.Runs.Length > 1)
        {
            var request = _requests.Next();
            return _retry.RunAsync(again => _pages[_settings.FirstPage + alone.Page].WriteRuns(_settings.Epoch, again ? request.AsRetry() : request, alone.Runs),
                CancellationToken.None);
        }
        var spans = send.Select(dirty => new PageSpan(_settings.FirstPage + dirty.Page, dirty.Runs[0].Offset, dirty.Runs[0].Bytes.Length)).ToArray();
        var pieces = send.Select(dirty => dirty.Runs[0].Bytes).ToArray();
        var ids = _requests.Reserve(send.Length);
        return _retry.RunAsync(again => _pages.Batch.Write(_settings.Epoch, again ? ids.AsRetry() : ids, spans, pieces), CancellationToken.None);
    }

    /// <summary>
    /// Each dirty page with its twin and its bytes now. A page dirty at the last release too stays writable, with its
    /// bytes now as its next twin; any other is protected again before the copy is taken, so a store from then on
    /// faults and takes a new twin. A writable page is dirty when it differs from its twin.
    /// </summary>
    private List<(long Page, byte[] Twin, byte[] Now)> TakeDirtyPages()
    {
        var work = new List<(long Page, byte[] Twin, byte[] Now)>();
        var dirty = new HashSet<long>();
        lock (_gate)
        {
            foreach (var (page, twin) in _twins.ToList())
            {
                if (_writable.TryGetValue(page, out var unchanged))
                {
                    if (PageEquals(page, twin))
                    {
                        var patience = _patience.GetValueOrDefault(page, FirstPatience);
                        if (unchanged + 1 < patience) _writable[page] = unchanged + 1;
                        else
                        {
                            Protect(page);
                            _patience[page] = Math.Min(2 * patience, MostPatience);
                        }
                        continue;
                    }
                    _writable[page] = 0;
                }
                else if (_dirtyAtLastRelease.Contains(page)) _writable[page] = 0;
                else
                {
                    Protect(page);
                    work.Add((page, twin, PageBytes(page)));
                    dirty.Add(page);
                    continue;
                }
                var now = PageBytes(page);
                _twins[page] = now;
                work.Add((page, twin, now));
                dirty.Add(page);
            }
            _dirtyAtLastRelease = dirty;
        }
        return work;
    }

    /// <summary>Protects a page again and drops its twin: its next store faults. Called under the lock.</summary>
    private void Protect(long page)
    {
        WriteProtect(page, protect: true);
        _twins.Remove(page);
        _writable.Remove(page);
    }

    /// <summary>Whether a present page is not written since <paramref name="twin"/> was taken: a writable page's stores fault no more.</summary>
    private bool PageEquals(long page, byte[] twin) => Page(page).SequenceEqual(twin);

    /// <summary>Whether a present page holds no store since its last release (or its fetch). Called under the lock.</summary>
    private bool IsClean(long page) =>
        !_twins.TryGetValue(page, out var twin) || _writable.ContainsKey(page) && PageEquals(page, twin);

    /// <summary>Drops every present page not written since the last release whose copy is no longer valid.</summary>
    public string Acquire()
    {
        lock (_gate)
        {
            var clean = _present.Where(page => !_installing.ContainsKey(page)
                                               && !_cache.Holds(_settings.FirstPage + page, _settings.Epoch) && IsClean(page)).ToList();
            foreach (var page in clean)
            {
                LinuxMemory.Check(LinuxMemory.fallocate(_memoryFd, LinuxMemory.FallocPunchHole | LinuxMemory.FallocKeepSize,
                    page * _settings.PageSize, _settings.PageSize), "fallocate(PUNCH_HOLE)");
                _present.Remove(page);
                // Missing now, so its next touch faults and installs it protected, whether or not it was writable.
                _twins.Remove(page);
                _writable.Remove(page);
                _dirtyAtLastRelease.Remove(page);
                _patience.Remove(page);
            }
            _droppedPages += clean.Count;
            return "ok";
        }
    }

    public string Statistics()
    {
        lock (_gate)
            return $"ok {_missingFaults} {_writeFaults} {_present.Count} {_twins.Keys.Count(page => !IsClean(page))} {Interlocked.Read(ref _releasedPages)} {Interlocked.Read(ref _releasedBytes)} {_droppedPages} {_writable.Count} {_readAheadPages}";
    }

    /// <summary>Stops reading faults (the reader looks up every 100 ms) and lets go of the view and both descriptors.</summary>
    public void Dispose()
    {
        _stopping = true;
        if (_reader.IsAlive) _reader.Join();
        // The cache outlives the mapping (it serves the pager's other mappings): its copies of this one's pages go now,
        // or a long-lived pager would keep every page it ever fetched.
        lock (_gate)
        {
            _disposed = true;
            foreach (var page in _present) _cache.Revoke(_settings.FirstPage + page, long.MaxValue);
        }
        LinuxMemory.munmap(_view, (nuint)_settings.ByteLength);
        LinuxMemory.close(_userfaultFd);
        LinuxMemory.close(_memoryFd);
    }

    private unsafe void ReadFaults()
    {
        var message = default(LinuxMemory.UffdMessage);
        var wait = new LinuxMemory.PollDescriptor { Fd = _userfaultFd, Events = LinuxMemory.PollIn };
        while (!_stopping)
        {
            FailOverdueFetches();
            // Waits at most 100 ms, so that an unmap stops this thread soon and overdue fetches are seen.
            var ready = LinuxMemory.poll(&wait, 1, 100);
            if (ready == 0 || ready == -1 && Marshal.GetLastPInvokeError() == Eintr) continue;
            if (ready == -1) Fatal(LinuxMemory.LastError("poll of the userfaultfd"));
            // The client has unmapped and let go of the region: no fault can come any more.
            if ((wait.ReturnedEvents & (LinuxMemory.PollError | LinuxMemory.PollHangUp)) != 0) return;
            if (LinuxMemory.read(_userfaultFd, &message, (nuint)sizeof(LinuxMemory.UffdMessage)) == -1)
            {
                if (Marshal.GetLastPInvokeError() is Eintr or Eagain) continue;
                Fatal(LinuxMemory.LastError("read of the userfaultfd"));
            }
            if (message.Event != LinuxMemory.EventPagefault) continue;
            var page = (long)((message.Address - _settings.MappingAddress) / (ulong)_settings.PageSize);
            if ((message.Flags & LinuxMemory.PagefaultFlagWp) != 0) FirstStore(page);
            else Install(page, store: (message.Flags & LinuxMemory.PagefaultFlagWrite) != 0);
        }
    }

    /// <summary>
    /// A store hit a protected page: take its twin (unless it has one) and let the store through. The store may have
    /// been reported twice (its thread, interrupted by a signal, faulted again), and the second report read after the
    /// store went through and the client unmapped the region: then there is nothing to let through, and the twin goes.
    /// </summary>
    internal void FirstStore(long page)
    {
        lock (_gate)
        {
            var twinned = !_twins.ContainsKey(page);
            if (twinned) _twins[page] = PageBytes(page);
            if (WriteProtect(page, protect: false))
            {
                if (twinned) _writeFaults++;
            }
            else if (twinned) _twins.Remove(page);
        }
    }

    /// <summary>
    /// Fetches and copies in a missing page, once however many threads fault on it meanwhile, and reads ahead of a scan
    /// when the mapping asks for it: after two faults in a row on consecutive pages, or a fault on the page just past
    /// the stretch read ahead last, the next pages not present are fetched too, all at once. A scan in order then
    /// waits for one fetch per stretch, the stretch's first page, while the rest of it arrives meanwhile.
    /// </summary>
    private void Install(long page, bool store)
    {
        bool first;
        List<long>? ahead = null;
        lock (_gate)
        {
            // A fault reported again after its page came in (its thread was interrupted by a signal, the runtime's
            // suspension for a collection say, and faulted anew before the copy woke it): only the wake is missing.
            if (_present.Contains(page))
            {
                Wake(page);
                return;
            }
            var now = Stopwatch.GetTimestamp();
            first = _installing.TryAdd(page, now);
            // A page on its way ahead of the scan that a thread now waits for: the fault timeout runs from here.
            if (!first && _readingAhead.Remove(page)) _installing[page] = now;
            if (_settings.ReadAheadPages > 0 && (page == _lastFaulted + 1 || page == _pastReadAhead))
            {
                var pages = _settings.ByteLength / _settings.PageSize;
                var end = Math.Min(page + 1 + _settings.ReadAheadPages, pages);
                for (var next = page + 1; next < end; next++)
                    if (!_present.Contains(next) && _installing.TryAdd(next, now))
                    {
                        _readingAhead.Add(next);
                        (ahead ??= []).Add(next);
                    }
                _pastReadAhead = end;
            }
            _lastFaulted = page;
        }
        // Started outside the lock: sending the call takes a while, and other pages' copies must not wait for it. A page
        // read ahead is fetched as a faulted one is, since a thread may fault on it meanwhile and wait for its copy.
        if (first) _ = FetchAndCopyAsync(page, store, readAhead: false);
        foreach (var next in ahead ?? []) _ = FetchAndCopyAsync(next, store: false, readAhead: true);
    }

    /// <summary>
    /// Ends the client if a fetch has run past the fault timeout (a call that never answers, say). Looked at by the
    /// reader about every 100 ms rather than by a timer per fault, which would cost every fault a timer's setup.
    /// </summary>
    private void FailOverdueFetches()
    {
        var now = Stopwatch.GetTimestamp();
        if (Stopwatch.GetElapsedTime(_lastOverdueCheck, now) < TimeSpan.FromMilliseconds(100)) return;
        _lastOverdueCheck = now;
        long? overdue = null;
        lock (_gate)
            foreach (var (page, started) in _installing)
                if (Stopwatch.GetElapsedTime(started, now) > _settings.FaultTimeout && !_readingAhead.Contains(page)) overdue = page;
        if (overdue is { } late) Fatal($"page {late} of the mapped region could not be fetched within {_settings.FaultTimeout.TotalSeconds:0.#} s (no answer)");
    }

    private async Task FetchAndCopyAsync(long page, bool store, bool readAhead)
    {
        byte[] bytes;
        try
        {
            // Bounded from outside (FailOverdueFetches): a cancellable grain call costs more per call.
            var copy = await _retry.RunAsync(() => _cache.FillAsync(_settings.FirstPage + page, _settings.Epoch, CancellationToken.None), CancellationToken.None);
            bytes = copy.ServedBytes() ?? _zeros; // a page never written reads as zeros
        }
        catch (Exception error)
        {
            lock (_gate)
                if (_disposed || readAhead && _readingAhead.Remove(page))
                {
                    // Nothing waits for the page: the mapping is gone, or no thread has touched it yet.
                    _installing.Remove(page);
                    return;
                }
            Fatal($"page {page} of the mapped region could not be fetched within {_settings.FaultTimeout.TotalSeconds:0.#} s ({error.GetType().Name}: {OneLine(error.Message)})");
            return;
        }
        lock (_gate)
        {
            if (_disposed) return;
            _readingAhead.Remove(page);
            // A store that faulted the page in gets it writable and dirty at once, its twin being what was fetched.
            if (Copy(page, bytes, protect: !store))
            {
                if (store) _twins[page] = bytes;
                _present.Add(page);
                if (readAhead) _readAheadPages++;
                else _missingFaults++;
            }
            _installing.Remove(page);
        }
    }

    /// <summary>
    /// Copies the page in; false when it was there already (the faulting thread is only woken), or when the client has
    /// unmapped the region, which it does before telling the pager: a page read ahead can arrive in between.
    /// </summary>
    private unsafe bool Copy(long page, byte[] bytes, bool protect)
    {
        fixed (byte* source = bytes)
        {
            var copy = new LinuxMemory.UffdioCopy
            {
                Destination = _settings.MappingAddress + (ulong)(page * _settings.PageSize),
                Source = (ulong)source,
                Length = (ulong)_settings.PageSize,
                Mode = protect ? LinuxMemory.CopyModeWp : 0,
            };
            while (LinuxMemory.ioctl(_userfaultFd, LinuxMemory.IoctlCopy, &copy) == -1)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Eagain) continue;
                if (errno == Eexist)
                {
                    // Already there: the faulting thread only needs waking.
                    Wake(page);
                    return false;
                }
                if (errno == Enoent) return false; // no mapping there any more, so no thread to wake either
                Fatal(LinuxMemory.LastError("UFFDIO_COPY"));
            }
            return true;
        }
    }

    private unsafe void Wake(long page)
    {
        var range = Range(page);
        LinuxMemory.Check(LinuxMemory.ioctl(_userfaultFd, LinuxMemory.IoctlWake, &range), "UFFDIO_WAKE");
    }

    /// <summary>Protects the page or lets stores through; false when the client has unmapped the region.</summary>
    private unsafe bool WriteProtect(long page, bool protect)
    {
        var request = new LinuxMemory.UffdioWriteProtect { Range = Range(page), Mode = protect ? LinuxMemory.WriteProtectModeWp : 0 };
        if (LinuxMemory.ioctl(_userfaultFd, LinuxMemory.IoctlWriteProtect, &request) == 0) return true;
        if (Marshal.GetLastPInvokeError() == Enoent) return false; // no mapping there any more
        throw new IOException(LinuxMemory.LastError("UFFDIO_WRITEPROTECT"));
    }

    private LinuxMemory.UffdioRange Range(long page) =>
        new() { Start = _settings.MappingAddress + (ulong)(page * _settings.PageSize), Length = (ulong)_settings.PageSize };

    /// <summary>A copy of a present page, read through this process's view of the memory file.</summary>
    private byte[] PageBytes(long page) => Page(page).ToArray();

    /// <summary>A present page as it is now, through this process's view of the memory file.</summary>
    private unsafe ReadOnlySpan<byte> Page(long page) => new((byte*)_view + page * _settings.PageSize, _settings.PageSize);

    /// <summary>A fault that cannot be served: the process that mapped the region is killed (see <see cref="ClientLifeline.End"/>).</summary>
    private void Fatal(string why) => _lifeline.End(why);

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
