using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace OrleansDsm.Caching;

/// <summary>
/// The monotonic millisecond clock leases are counted on. Every cached read checks its lease against it, so its cost
/// is part of every hit: on Linux it reads <c>CLOCK_MONOTONIC_COARSE</c> directly (a vDSO read, without the runtime's
/// call transition that <see cref="Environment.TickCount64"/> adds), elsewhere it is <see cref="Environment.TickCount64"/>.
/// Its granularity (a few milliseconds) is covered by the lease's safety margin (<see cref="SiloLease.SafetyMargin"/>).
/// </summary>
internal static unsafe partial class LeaseClock
{
    private const int MonotonicCoarse = 6; // CLOCK_MONOTONIC_COARSE in <linux/time.h>

    private static readonly bool UseCoarse = OperatingSystem.IsLinux() && ProbeCoarse();

    public static long NowMilliseconds
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if (!UseCoarse) return Environment.TickCount64;
            TimeSpec now;
            ClockGetTime(MonotonicCoarse, &now);
            return now.Seconds * 1000 + now.Nanoseconds / 1_000_000;
        }
    }

    private static bool ProbeCoarse()
    {
        try
        {
            TimeSpec now;
            return ClockGetTime(MonotonicCoarse, &now) == 0;
        }
        catch (Exception error) when (error is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    [SuppressGCTransition]
    private static partial int ClockGetTime(int clock, TimeSpec* time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
