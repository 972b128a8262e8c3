using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace OrleansDsm.Caching;

/// <summary>
/// Finds where the Linux kernel keeps <c>CLOCK_MONOTONIC_COARSE</c> in the vDSO's data page (<c>[vvar]</c>), so that
/// <see cref="LeaseClock"/> reads it with a few loads instead of a call into the vDSO, which was about half of a
/// sequential cached read. The kernel publishes the page for exactly this (the vDSO's own <c>clock_gettime</c> reads
/// it), but not its layout, so the layouts of the kernel's generic vDSO are tried and one is used only after its
/// readings have matched <c>clock_gettime</c>'s, across a tick of the clock; otherwise (another layout, a time
/// namespace, a page that cannot be read) the caller keeps calling <c>clock_gettime</c>.
/// </summary>
internal static unsafe partial class KernelClockPage
{
    private const int MonotonicCoarse = 6; // CLOCK_MONOTONIC_COARSE in <linux/time.h>
    private const int PageSize = 4096;

    // In the generic vDSO's struct vdso_clock, basetime[] (seconds and nanoseconds, 16 bytes per clock) follows seq,
    // clock_mode, cycle_last, max_cycles (only where overflow protection is built in), mask, mult and shift.
    private static readonly int[] BaseTimeOffsets = [40, 32];

    /// <summary>
    /// The addresses of the sequence count and of the (seconds, nanoseconds) pair of the coarse monotonic clock, once
    /// checked against <paramref name="clockGetTime"/>; null when they could not be found or did not match.
    /// </summary>
    public static (nint Sequence, nint Time)? Find(delegate* unmanaged[SuppressGCTransition]<int, long*, int> clockGetTime)
    {
        if (!OperatingSystem.IsLinux() || clockGetTime == null) return null;
        var page = DataPageAddress();
        return page == 0 ? null : FindIn(page, clockGetTime);
    }

    /// <summary>As <see cref="Find"/>, in the page at <paramref name="page"/>, which need not be mapped.</summary>
    internal static (nint Sequence, nint Time)? FindIn(nint page, delegate* unmanaged[SuppressGCTransition]<int, long*, int> clockGetTime)
    {
        if (!IsReadable(page)) return null;
        foreach (var baseTime in BaseTimeOffsets)
        {
            var found = (Sequence: page, Time: page + baseTime + MonotonicCoarse * 16);
            if (Agrees(found.Sequence, found.Time, clockGetTime)) return found;
        }
        return null;
    }

    /// <summary>Reads the coarse clock from the page, as the vDSO does: retried while the kernel is updating it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (long Seconds, long Nanoseconds) Read(nint sequence, nint time)
    {
        uint before;
        long seconds, nanoseconds;
        do
        {
            before = Volatile.Read(ref *(uint*)sequence);
            seconds = Volatile.Read(ref *(long*)time);
            nanoseconds = Volatile.Read(ref *((long*)time + 1));
        }
        while ((before & 1) != 0 || Volatile.Read(ref *(uint*)sequence) != before);
        return (seconds, nanoseconds);
    }

    /// <summary>The start of the <c>[vvar]</c> mapping, whose first page holds the clocks; 0 if there is none.</summary>
    private static nint DataPageAddress()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
                if (line.EndsWith("[vvar]", StringComparison.Ordinal) && line.IndexOf('-') is > 0 and var dash
                    && long.TryParse(line.AsSpan(0, dash), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var start))
                    return (nint)start;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            // No /proc, or not readable here: the call it is.
        }
        return 0;
    }

    /// <summary>
    /// Whether the page can be loaded from. Some pages of <c>[vvar]</c> raise SIGBUS when read, which would end the
    /// process, so the kernel reads it first: a write from it into a pipe fails with EFAULT instead.
    /// </summary>
    private static bool IsReadable(nint page)
    {
        var ends = stackalloc int[2];
        try
        {
            if (pipe(ends) != 0) return false;
        }
        catch (Exception error) when (error is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // a C library without these names: the call it is
        }
        try
        {
            return write(ends[1], (void*)page, PageSize) == PageSize;
        }
        finally
        {
            close(ends[0]);
            close(ends[1]);
        }
    }

    /// <summary>
    /// Whether every reading of the candidate lies between two <c>clock_gettime</c> readings taken around it, until the
    /// clock has ticked (within 4 ms at 250 ticks a second, 10 ms at 100).
    /// </summary>
    private static bool Agrees(nint sequence, nint time, delegate* unmanaged[SuppressGCTransition]<int, long*, int> clockGetTime)
    {
        var called = stackalloc long[2];
        var deadline = Environment.TickCount64 + 100;
        (long, long)? first = null;
        while (true)
        {
            if (Environment.TickCount64 > deadline) return false;
            if (clockGetTime(MonotonicCoarse, called) != 0) return false;
            var before = (called[0], called[1]);
            // A candidate that is not the clock could hold anything: an odd count would keep Read looping, so look first.
            if ((Volatile.Read(ref *(uint*)sequence) & 1) != 0) continue;
            var read = Read(sequence, time);
            if (clockGetTime(MonotonicCoarse, called) != 0) return false;
            var after = (called[0], called[1]);
            if (Compare(before, read) > 0 || Compare(read, after) > 0) return false;
            first ??= read;
            if (read != first) return true;
        }
    }

    private static int Compare((long Seconds, long Nanoseconds) a, (long Seconds, long Nanoseconds) b) =>
        a.Seconds != b.Seconds ? a.Seconds.CompareTo(b.Seconds) : a.Nanoseconds.CompareTo(b.Nanoseconds);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int pipe(int* ends);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint write(int fd, void* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
