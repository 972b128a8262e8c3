using System.Runtime.InteropServices;
using OrleansDsm.Arrays;
using OrleansDsm.Connection;
using OrleansDsm.Errors;
using OrleansDsm.Mapping;

namespace OrleansDsm.Pager;

/// <summary>
/// Serves the page faults of one mapped region, in the pager process. A thread reads fault messages from the inherited
/// userfaultfd. A missing page is fetched from its page grain and copied in write-protected (or writable and dirty, when
/// a store faulted it in); the first store to a protected page takes a twin of it from this process's own view of the
/// memory file, then unprotects it. A release protects the dirty pages again and sends each one's changes, found
/// against its twin; an acquire punches the clean present pages out of the memory file, so the next touch faults.
/// </summary>
internal sealed class FaultServer : IDisposable
{
    private const int Eintr = 4, Eagain = 11, Eexist = 17;
    private const int Sigkill = 9;

    private readonly PagerSettings _settings;
    private readonly PageReferences _pages;
    private readonly TransientRetry _retry;
    private readonly RequestIds _requests = new(Guid.NewGuid());
    private readonly nint _view;
    private readonly Lock _gate = new();
    private readonly HashSet<long> _present = [];
    private readonly Dictionary<long, byte[]> _twins = [];
    private readonly Dictionary<long, Task> _installing = [];
    private long _missingFaults, _writeFaults, _releasedPages, _releasedBytes, _droppedPages;

    public FaultServer(PagerSettings settings, IGrainFactory grains)
    {
        _settings = settings;
        _pages = new PageReferences(grains);
        _retry = new TransientRetry(settings.FaultTimeout, TimeSpan.FromMilliseconds(200));
        var view = LinuxMemory.mmap(0, (nuint)settings.ByteLength, LinuxMemory.ProtRead | LinuxMemory.ProtWrite,
            LinuxMemory.MapShared | LinuxMemory.MapNoReserve, settings.MemoryFd, 0);
        _view = (nint)LinuxMemory.Check(view, "mmap of the memory file");
    }

    /// <summary>Starts reading faults on a thread of its own, which blocks in the kernel between them.</summary>
    public void Start() => new Thread(ReadFaults) { IsBackground = true, Name = "userfaultfd reader" }.Start();

    /// <summary>Sends every dirty page's changes; answers as the client's <c>PagerProcess</c> expects.</summary>
    public async Task<string> ReleaseAsync()
    {
        var work = TakeDirtyPages();
        Exception? failure = null;
        await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (dirty, _) =>
        {
            var runs = PageDiff.Changes(dirty.Twin, dirty.Now);
            if (runs.Length == 0) return;
            var request = _requests.Next();
            try
            {
                await _retry.RunAsync(again => _pages[_settings.FirstPage + dirty.Page].WriteRuns(_settings.Epoch, again ? request.AsRetry() : request, runs),
                    CancellationToken.None);
                Interlocked.Increment(ref _releasedPages);
                Interlocked.Add(ref _releasedBytes, runs.Sum(run => run.Bytes.Length));
            }
            catch (Exception error)
            {
                // Kept for the next release, unless the region is gone; the older twin covers stores made since.
                if (error is not RegionFreedException)
                    lock (_gate) _twins[dirty.Page] = dirty.Twin;
                Interlocked.CompareExchange(ref failure, error, null);
            }
        });
        return failure is null ? "ok" : $"error {failure.GetType().Name}\t{OneLine(failure.Message)}";
    }

    /// <summary>
    /// Each dirty page with its twin and its bytes now, protected again before the copy is taken: a store from then on
    /// faults and takes a new twin.
    /// </summary>
    private List<(long Page, byte[] Twin, byte[] Now)> TakeDirtyPages()
    {
        var work = new List<(long Page, byte[] Twin, byte[] Now)>();
        lock (_gate)
        {
            foreach (var (page, twin) in _twins)
            {
                WriteProtect(page, protect: true);
                work.Add((page, twin, PageBytes(page)));
            }
            _twins.Clear();
        }
        return work;
    }

    /// <summary>Drops every present page not written since the last release.</summary>
    public string Acquire()
    {
        lock (_gate)
        {
            var clean = _present.Where(page => !_twins.ContainsKey(page) && !_installing.ContainsKey(page)).ToList();
            foreach (var page in clean)
            {
                LinuxMemory.Check(LinuxMemory.fallocate(_settings.MemoryFd, LinuxMemory.FallocPunchHole | LinuxMemory.FallocKeepSize,
                    page * _settings.PageSize, _settings.PageSize), "fallocate(PUNCH_HOLE)");
                _present.Remove(page);
            }
            _droppedPages += clean.Count;
            return "ok";
        }
    }

    public string Statistics()
    {
        lock (_gate)
            return $"ok {_missingFaults} {_writeFaults} {_present.Count} {_twins.Count} {Interlocked.Read(ref _releasedPages)} {Interlocked.Read(ref _releasedBytes)} {_droppedPages}";
    }

    public void Dispose() => LinuxMemory.munmap(_view, (nuint)_settings.ByteLength);

    private unsafe void ReadFaults()
    {
        var message = default(LinuxMemory.UffdMessage);
        while (true)
        {
            if (LinuxMemory.read(_settings.UserfaultFd, &message, (nuint)sizeof(LinuxMemory.UffdMessage)) == -1)
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

    /// <summary>A store hit a protected page: take its twin (unless it has one) and let the store through.</summary>
    private void FirstStore(long page)
    {
        lock (_gate)
        {
            if (!_twins.ContainsKey(page))
            {
                _twins[page] = PageBytes(page);
                _writeFaults++;
            }
            WriteProtect(page, protect: false);
        }
    }

    /// <summary>Fetches and copies in a missing page, once however many threads fault on it meanwhile.</summary>
    private void Install(long page, bool store)
    {
        lock (_gate)
            if (!_installing.ContainsKey(page)) _installing[page] = FetchAndCopyAsync(page, store);
    }

    private async Task FetchAndCopyAsync(long page, bool store)
    {
        byte[] bytes;
        try
        {
            using var deadline = new CancellationTokenSource(_settings.FaultTimeout);
            bytes = await _retry.RunAsync(() => _pages[_settings.FirstPage + page].Read(_settings.Epoch, 0, _settings.PageSize, deadline.Token), deadline.Token);
        }
        catch (Exception error)
        {
            Fatal($"page {page} of the mapped region could not be fetched within {_settings.FaultTimeout.TotalSeconds:0.#} s ({error.GetType().Name}: {OneLine(error.Message)})");
            return;
        }
        lock (_gate)
        {
            // A store that faulted the page in gets it writable and dirty at once, its twin being what was fetched.
            // A fault can be reported twice (a thread interrupted in it, by the runtime's suspension signal for a
            // collection say, faults again): the second copy finds the page there and only wakes the thread.
            if (Copy(page, bytes, protect: !store))
            {
                if (store) _twins[page] = bytes;
                _present.Add(page);
                _missingFaults++;
            }
            _installing.Remove(page);
        }
    }

    /// <summary>Copies the page in; false when it was there already, and the faulting thread was only woken.</summary>
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
            while (LinuxMemory.ioctl(_settings.UserfaultFd, LinuxMemory.IoctlCopy, &copy) == -1)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Eagain) continue;
                if (errno == Eexist)
                {
                    // Already there (a fault raced an earlier copy): the faulting thread only needs waking.
                    var range = Range(page);
                    LinuxMemory.Check(LinuxMemory.ioctl(_settings.UserfaultFd, LinuxMemory.IoctlWake, &range), "UFFDIO_WAKE");
                    return false;
                }
                Fatal(LinuxMemory.LastError("UFFDIO_COPY"));
            }
            return true;
        }
    }

    private unsafe void WriteProtect(long page, bool protect)
    {
        var request = new LinuxMemory.UffdioWriteProtect { Range = Range(page), Mode = protect ? LinuxMemory.WriteProtectModeWp : 0 };
        LinuxMemory.Check(LinuxMemory.ioctl(_settings.UserfaultFd, LinuxMemory.IoctlWriteProtect, &request), "UFFDIO_WRITEPROTECT");
    }

    private LinuxMemory.UffdioRange Range(long page) =>
        new() { Start = _settings.MappingAddress + (ulong)(page * _settings.PageSize), Length = (ulong)_settings.PageSize };

    /// <summary>A copy of a present page, read through this process's view of the memory file.</summary>
    private unsafe byte[] PageBytes(long page) => new ReadOnlySpan<byte>((byte*)_view + page * _settings.PageSize, _settings.PageSize).ToArray();

    /// <summary>
    /// A fault that cannot be served: a load cannot fail, and the faulting thread must never see a page that is not
    /// there, so the process that mapped the region is killed, after saying why on the standard error both share.
    /// </summary>
    private void Fatal(string why)
    {
        Console.Error.WriteLine($"OrleansDsm pager: {why}; killing process {_settings.ClientProcessId}, which mapped the region, since a load from memory cannot fail.");
        LinuxMemory.kill(_settings.ClientProcessId, Sigkill);
        Environment.Exit(3);
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
