using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace OrleansDsm.Caching;

/// <summary>
/// The monotonic millisecond clock leases are counted on. Every cached read checks its lease against it, so its cost
/// is part of every hit: on Linux it reads <c>CLOCK_MONOTONIC_COARSE</c> straight from the kernel's vDSO data page where
/// that page's layout is recognized and checked (<see cref="KernelClockPage"/>: a few loads, about 2.5 ns a hit less
/// than the call), else through the vDSO's own <c>clock_gettime</c>, called directly (libc's wrapper costs each hit a
/// further call, and <see cref="Environment.TickCount64"/> the runtime's call transition besides); elsewhere it is
/// <see cref="Environment.TickCount64"/>. Its granularity (a few milliseconds) is covered by the lease's safety margin
/// (<see cref="SiloLease.SafetyMargin"/>).
/// </summary>
internal static unsafe class LeaseClock
{
    private const int MonotonicCoarse = 6; // CLOCK_MONOTONIC_COARSE in <linux/time.h>

    // Null where there is no such clock: TickCount64 then. A static readonly field, so tiered code calls it as a constant.
    private static readonly delegate* unmanaged[SuppressGCTransition]<int, TimeSpec*, int> ClockGetTime = FindCoarseClock();

    // Where the kernel keeps the coarse clock, when found and checked; 0 otherwise. Static readonly, so tiered code
    // reads them as constants and a hit tests nothing to choose its way.
    private static readonly nint KernelSequence, KernelTime;

    static LeaseClock()
    {
        if (KernelClockPage.Find(CoarseClock) is var (sequence, time)) (KernelSequence, KernelTime) = (sequence, time);
    }

    /// <summary>
    /// The vDSO's or libc's <c>clock_gettime</c>, given a clock id and a (seconds, nanoseconds) pair; null where neither
    /// serves the coarse clock.
    /// </summary>
    internal static delegate* unmanaged[SuppressGCTransition]<int, long*, int> CoarseClock =>
        (delegate* unmanaged[SuppressGCTransition]<int, long*, int>)ClockGetTime;

    /// <summary>Where the clock is read: the kernel's data page, the vDSO's function, or the runtime's tick count.</summary>
    public static string Source => KernelTime != 0 ? "the kernel's vDSO data page" : ClockGetTime != null ? "clock_gettime" : "Environment.TickCount64";

    public static long NowMilliseconds => NowNanoseconds / 1_000_000;

    /// <summary>
    /// The same clock in nanoseconds (its granularity stays a tick): a cached hit compares this with its lease's end in
    /// the same unit, which costs one multiplication where milliseconds cost a division.
    /// </summary>
    public static long NowNanoseconds
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        [SkipLocalsInit]
        get
        {
            if (KernelTime != 0)
            {
                var (seconds, nanoseconds) = KernelClockPage.Read(KernelSequence, KernelTime);
                return seconds * 1_000_000_000 + nanoseconds;
            }
            if (ClockGetTime == null) return Environment.TickCount64 * 1_000_000;
            TimeSpec now;
            ClockGetTime(MonotonicCoarse, &now);
            return now.Seconds * 1_000_000_000 + now.Nanoseconds;
        }
    }

    /// <summary>
    /// The vDSO's <c>clock_gettime</c> (its name per architecture is in vdso(7)), else libc's, provided it serves the
    /// coarse clock; null off Linux or when neither does.
    /// </summary>
    private static delegate* unmanaged[SuppressGCTransition]<int, TimeSpec*, int> FindCoarseClock()
    {
        if (!OperatingSystem.IsLinux()) return null;
        var inVdso = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "__kernel_clock_gettime" : "__vdso_clock_gettime";
        foreach (var (library, symbol) in new[] { ("linux-vdso.so.1", inVdso), ("libc.so.6", "clock_gettime") })
        {
            if (!NativeLibrary.TryLoad(library, out var handle) || !NativeLibrary.TryGetExport(handle, symbol, out var address)) continue;
            var clock = (delegate* unmanaged[SuppressGCTransition]<int, TimeSpec*, int>)address;
            TimeSpec now;
            if (clock(MonotonicCoarse, &now) == 0) return clock;
        }
        return null;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
