using System.Text.Json;

namespace OrleansDsm.Mapping;

/// <summary>
/// A region mapped into this process's memory (<see cref="Arrays.SharedArray{T}.MapAsync"/>): plain loads and stores, at local
/// speed once a page is present. A page is fetched from the cluster when first touched (a page fault served by the
/// client's pager process), and present pages stay until <see cref="AcquireAsync"/> drops them.
/// </summary>
/// <remarks>
/// <para><b>Memory model: release consistency, as in TreadMarks.</b> Stores go to this process's copy only. At
/// <see cref="ReleaseAsync"/> the aligned 8-byte words changed since the last release (found by comparing each written
/// page with a copy taken at its first write) go to their page grains (a batch call for up to 16 pages each changed in
/// one place, a call of its own for a page changed in several), each page's changes applied at once. At <see cref="AcquireAsync"/>
/// every present page that another process has written since it was fetched, and that this process has not written
/// since its last release, is dropped, so the next load fetches it afresh. A program may assume: what another process released before this one acquired is seen after
/// the acquire; words it did not change are never overwritten by its releases (so processes may write different
/// 8-byte words of one page; a word changed in one byte goes whole); between its own acquires it may see stale data. Call <see cref="ReleaseAsync"/> before a
/// barrier or before letting go of a lock, and <see cref="AcquireAsync"/> after.</para>
/// <para><b>Faults.</b> A touch of a page not present waits for the pager to fetch it, up to
/// <see cref="MappingOptions.FaultTimeout"/>. A load cannot fail, so if the cluster cannot serve the page in that time
/// the pager prints why on standard error and kills this process: no wrong data is ever seen. System calls given a
/// range of the mapping (a file read into it, say) fault pages in like loads do.</para>
/// <para><b>Threads.</b> Any thread may load and store; <see cref="ReleaseAsync"/> and <see cref="AcquireAsync"/> must not
/// run while other threads store, as with any release-consistent memory.</para>
/// </remarks>
/// <typeparam name="T">The element type of the array it maps.</typeparam>
public sealed class MappedRegion<T> : IAsyncDisposable where T : unmanaged
{
    private readonly PagerProcess _pager;
    private readonly Mapper _mapper;
    private readonly int _id;
    private readonly int _userfaultFd;
    private readonly int _memoryFd;
    private readonly nuint _mappedBytes;
    private nint _start;

    private MappedRegion(RegionDescriptor region, nint start, nuint mappedBytes, int userfaultFd, int memoryFd, PagerProcess pager, Mapper mapper, int id)
    {
        Region = region;
        _id = id;
        _start = start;
        _mappedBytes = mappedBytes;
        _userfaultFd = userfaultFd;
        _memoryFd = memoryFd;
        _pager = pager;
        _mapper = mapper;
    }

    /// <summary>The region mapped.</summary>
    public RegionDescriptor Region { get; }

    /// <summary>How many elements the mapping holds.</summary>
    public long Length => Region.ElementCount;

    /// <summary>Element 0's address, for unsafe code; valid until the mapping is disposed.</summary>
    public unsafe T* Pointer => _start == 0 ? throw new ObjectDisposedException(nameof(MappedRegion<T>)) : (T*)_start;

    /// <summary>Elements [<paramref name="start"/>, start + length) as a span over the mapping itself (a span holds at most 2^31 elements).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The window does not lie within the region.</exception>
    public unsafe Span<T> GetSpan(long start, int length) => new(Window(start, length), length);

    /// <summary>Elements [<paramref name="start"/>, start + length) as memory over the mapping itself, for async code.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The window does not lie within the region.</exception>
    public unsafe Memory<T> GetMemory(long start, int length) => new MappedMemoryManager<T>(Window(start, length), length).Memory;

    /// <summary>
    /// Sends the 8-byte words this process changed since its last release to their pages. Those pages are protected again,
    /// so the next store is noticed, except those that the last release found changed too: they stay writable, and the
    /// next release finds their changes by comparing them with what this one sent (see
    /// <see cref="MappingStatistics.WritablePages"/>).
    /// </summary>
    /// <exception cref="RegionFreedException">The region has been freed; the changes are dropped.</exception>
    /// <exception cref="IOException">A page could not be written; its changes stay for the next release.</exception>
    public async Task ReleaseAsync(CancellationToken cancellation = default) => await _pager.AskAsync($"release {_id}", cancellation);

    /// <summary>
    /// Drops every present page another process has written since it was fetched (its page revoked the pager's copy,
    /// or the pager's lease lapsed), unless this process has written it since its last release; the next touch fetches
    /// it afresh.
    /// </summary>
    public async Task AcquireAsync(CancellationToken cancellation = default) => await _pager.AskAsync($"acquire {_id}", cancellation);

    /// <summary>What the pager has done: faults served, pages present and dirty, what releases sent.</summary>
    public async Task<MappingStatistics> GetStatisticsAsync(CancellationToken cancellation = default)
    {
        var figures = (await _pager.AskAsync($"stats {_id}", cancellation)).Split(' ').Select(long.Parse).ToArray();
        return new MappingStatistics(figures[0], figures[1], figures[2], figures[3], figures[4], figures[5], figures[6], figures[7], figures[8]);
    }

    /// <summary>
    /// Unmaps the region, and has the pager let go of it: the memory and both descriptors go, in both processes (the
    /// pager itself stays for the client's other mappings, until the client is disposed, which disposes the mappings
    /// left too). Unreleased stores are lost; release first. No thread may touch the mapping afterwards: the memory is
    /// no longer mapped, and a touch ends the process.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        // Once, whether the program or its client's disposal comes first.
        var start = Interlocked.Exchange(ref _start, 0);
        if (start == 0) return;
        LinuxMemory.munmap(start, _mappedBytes);
        _mapper.Forget(_id);
        try
        {
            await _pager.AskAsync($"unmap {_id}", CancellationToken.None);
        }
        catch (IOException)
        {
            // The pager is gone: it took its copies of the descriptors with it.
        }
        LinuxMemory.close(_userfaultFd);
        LinuxMemory.close(_memoryFd);
    }

    private unsafe T* Window(long start, int length)
    {
        if (start < 0 || length < 0 || start > Length - length)
            throw new ArgumentOutOfRangeException(nameof(start), $"Elements [{start}, {start + length}) do not lie within [0, {Length}).");
        return Pointer + start;
    }

    /// <summary>The most pages <see cref="MappingOptions.ReadAheadPages"/> allows.</summary>
    internal const int MostReadAheadPages = 256;

    /// <summary>Maps <paramref name="region"/>: see <see cref="Arrays.SharedArray{T}.MapAsync"/>.</summary>
    internal static async Task<MappedRegion<T>> MapAsync(RegionDescriptor region, Mapper? mapper, MappingOptions options, CancellationToken cancellation)
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("Mapped regions need Linux's userfaultfd; this is not Linux.");
        if (region.PageSize % Environment.SystemPageSize != 0)
            throw new NotSupportedException($"Region '{region.Name}' has {region.PageSize}-byte pages, and a mapping needs pages that are a multiple of the system's {Environment.SystemPageSize}-byte pages.");
        if (mapper is null)
            throw new NotSupportedException("Mapping a region needs a client made by DsmClient.ConnectAsync, whose connection its pager process repeats.");
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.FaultTimeout, TimeSpan.Zero, nameof(options));
        if (options.ReadAheadPages is < 0 or > MostReadAheadPages)
            throw new ArgumentOutOfRangeException(nameof(options), options.ReadAheadPages, $"MappingOptions.ReadAheadPages is from 0 to {MostReadAheadPages}; it is {options.ReadAheadPages}.");

        var bytes = (region.ByteLength + region.PageSize - 1) / region.PageSize * region.PageSize;
        var (start, memoryFd, userfaultFd) = MapForFaults($"orleans-dsm:{region.Name}", bytes);
        try
        {
            var pager = await mapper.PagerAsync(cancellation);
            var id = mapper.NextId();
            var settings = new MappingSettings
            {
                Id = id,
                Epoch = region.Epoch,
                FirstPage = region.FirstPage,
                PageSize = region.PageSize,
                ByteLength = bytes,
                MappingAddress = (ulong)start,
                UserfaultFd = userfaultFd,
                MemoryFd = memoryFd,
                FaultTimeout = options.FaultTimeout,
                ReadAheadPages = options.ReadAheadPages,
            };
            await pager.AskAsync($"map {JsonSerializer.Serialize(settings)}", cancellation);
            var mapped = new MappedRegion<T>(region, start, (nuint)bytes, userfaultFd, memoryFd, pager, mapper, id);
            mapper.Track(id, mapped);
            return mapped;
        }
        catch
        {
            UnmapAndClose(start, bytes, memoryFd, userfaultFd);
            throw;
        }
    }

    /// <summary>
    /// Maps <paramref name="bytes"/> of a new memory file named <paramref name="name"/> (the name /proc/PID/maps shows),
    /// every page missing, and registers the mapping for missing and write-protect faults with a new userfaultfd.
    /// </summary>
    internal static (nint Start, int MemoryFd, int UserfaultFd) MapForFaults(string name, long bytes)
    {
        int memoryFd = -1, userfaultFd = -1;
        nint start = -1;
        try
        {
            memoryFd = (int)LinuxMemory.Check(LinuxMemory.memfd_create(name, LinuxMemory.MemfdCloseOnExec), "memfd_create");
            LinuxMemory.Check(LinuxMemory.ftruncate(memoryFd, bytes), "ftruncate");
            start = LinuxMemory.mmap(0, (nuint)bytes, LinuxMemory.ProtRead | LinuxMemory.ProtWrite, LinuxMemory.MapShared | LinuxMemory.MapNoReserve, memoryFd, 0);
            LinuxMemory.Check(start, "mmap");
            userfaultFd = OpenUserfaultFd();
            Register(userfaultFd, start, bytes);
            return (start, memoryFd, userfaultFd);
        }
        catch
        {
            UnmapAndClose(start, bytes, memoryFd, userfaultFd);
            throw;
        }
    }

    private static void UnmapAndClose(nint start, long bytes, int memoryFd, int userfaultFd)
    {
        if (start != -1) LinuxMemory.munmap(start, (nuint)bytes);
        if (userfaultFd != -1) LinuxMemory.close(userfaultFd);
        if (memoryFd != -1) LinuxMemory.close(memoryFd);
    }

    /// <summary>
    /// A userfaultfd that reports faults from the kernel too (no <c>UFFD_USER_MODE_ONLY</c>), so a system call given an
    /// untouched page faults it in as a load would, rather than failing with EFAULT. That needs root, CAP_SYS_PTRACE or
    /// <c>vm.unprivileged_userfaultfd=1</c>.
    /// </summary>
    private static unsafe int OpenUserfaultFd()
    {
        var fd = LinuxMemory.syscall(LinuxMemory.UserfaultfdSyscall, 0x80000 /* O_CLOEXEC */);
        if (fd == -1)
            throw new NotSupportedException(
                $"userfaultfd is not available to this process ({LinuxMemory.LastError("userfaultfd")}): mapping a region needs root, CAP_SYS_PTRACE or the sysctl vm.unprivileged_userfaultfd=1.");
        var api = new LinuxMemory.UffdioApi
        {
            Api = LinuxMemory.UffdApi,
            Features = LinuxMemory.FeaturePagefaultFlagWp | LinuxMemory.FeatureMissingShmem | LinuxMemory.FeatureWpHugetlbfsShmem,
        };
        if (LinuxMemory.ioctl((int)fd, LinuxMemory.IoctlApi, &api) == -1)
        {
            var why = LinuxMemory.LastError("UFFDIO_API");
            LinuxMemory.close((int)fd);
            throw new NotSupportedException($"This kernel's userfaultfd lacks missing and write-protect faults on shared memory ({why}); Linux 5.19 or later has them.");
        }
        return (int)fd;
    }

    private static unsafe void Register(int userfaultFd, nint start, long bytes)
    {
        var register = new LinuxMemory.UffdioRegister
        {
            Range = new LinuxMemory.UffdioRange { Start = (ulong)start, Length = (ulong)bytes },
            Mode = LinuxMemory.RegisterModeMissing | LinuxMemory.RegisterModeWp,
        };
        if (LinuxMemory.ioctl(userfaultFd, LinuxMemory.IoctlRegister, &register) == -1)
            throw new NotSupportedException($"The mapping could not be registered for missing and write-protect faults ({LinuxMemory.LastError("UFFDIO_REGISTER")}).");
    }
}
