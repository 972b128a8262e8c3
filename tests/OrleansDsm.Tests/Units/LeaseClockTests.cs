using System.Diagnostics;
using System.Runtime.InteropServices;
using OrleansDsm.Caching;

namespace OrleansDsm.Tests.Units;

/// <summary>
/// The clock every cached read checks its lease against: it must be the monotonic clock it claims to be, in
/// milliseconds, wherever it found to read it.
/// </summary>
public sealed class LeaseClockTests
{
    // CLOCK_MONOTONIC_COARSE ticks every 1 to 10 ms, by kernel configuration.
    private const long Granularity = 10;

    [Fact]
    public void It_never_goes_back_and_counts_milliseconds_at_the_rate_of_real_time()
    {
        var stopwatch = Stopwatch.StartNew();
        var start = LeaseClock.NowMilliseconds;
        var last = start;
        while (stopwatch.ElapsedMilliseconds < 300)
        {
            var now = LeaseClock.NowMilliseconds;
            Assert.True(now >= last, $"The lease clock went back from {last} to {now}.");
            last = now;
        }
        var counted = LeaseClock.NowMilliseconds - start;
        var elapsed = stopwatch.ElapsedMilliseconds;
        Assert.InRange(counted, elapsed - 2 * Granularity, elapsed + 2 * Granularity);
    }

    [Fact]
    public void On_linux_it_reads_the_kernels_data_page_rather_than_calling_the_vdso()
    {
        // Both kernel layouts this repository knows are tried and checked at start; a miss here means every cached read
        // pays the call again (about 2.5 ns of its 5 to 8), which nothing else would notice.
        if (!OperatingSystem.IsLinux()) return;
        Assert.Equal("the kernel's vDSO data page", LeaseClock.Source);
    }

    [Fact]
    public void It_reads_the_clock_the_runtime_counts_ticks_on()
    {
        // Environment.TickCount64 reads CLOCK_MONOTONIC_COARSE on Linux too, through the runtime (and is the lease
        // clock elsewhere): the same clock, so the two agree to a tick, read one after the other.
        var before = Environment.TickCount64;
        var clock = LeaseClock.NowMilliseconds;
        var after = Environment.TickCount64;
        Assert.InRange(clock, before - Granularity, after + Granularity);
    }

    [Fact]
    public unsafe void In_nanoseconds_it_is_the_same_coarse_clock_unscaled()
    {
        // A cached hit compares nanoseconds with its lease's end: they must be the kernel's coarse monotonic clock's own
        // (seconds and nanoseconds, as clock_gettime gives them), not milliseconds scaled, nor another clock.
        if (!OperatingSystem.IsLinux()) return;
        var called = stackalloc long[2];
        Assert.Equal(0, LeaseClock.CoarseClock(6, called)); // CLOCK_MONOTONIC_COARSE
        var before = called[0] * 1_000_000_000 + called[1];
        var clock = LeaseClock.NowNanoseconds;
        Assert.Equal(0, LeaseClock.CoarseClock(6, called));
        var after = called[0] * 1_000_000_000 + called[1];
        Assert.InRange(clock, before, after);
        var milliseconds = LeaseClock.NowMilliseconds;
        Assert.InRange(milliseconds, clock / 1_000_000, LeaseClock.NowNanoseconds / 1_000_000);
    }

    [Fact]
    public unsafe void A_page_that_cannot_be_read_or_does_not_keep_the_clock_is_refused()
    {
        if (!OperatingSystem.IsLinux()) return;
        // Below mmap_min_addr nothing is ever mapped: a load there would end the process, so the page must be refused
        // before any load.
        Assert.Null(KernelClockPage.FindIn(4096, LeaseClock.CoarseClock));

        // A readable page that is not the clock's: zeros, then an odd sequence count that a reader of the real page
        // would wait on for ever. Both are refused, the second within the check's deadline.
        var page = (byte*)NativeMemory.AlignedAlloc(4096, 4096);
        try
        {
            new Span<byte>(page, 4096).Clear();
            Assert.Null(KernelClockPage.FindIn((nint)page, LeaseClock.CoarseClock));
            *(uint*)page = 1;
            var clock = Stopwatch.StartNew();
            Assert.Null(KernelClockPage.FindIn((nint)page, LeaseClock.CoarseClock));
            Assert.True(clock.ElapsedMilliseconds < 1000, $"Refusing an odd sequence count took {clock.ElapsedMilliseconds} ms.");
        }
        finally
        {
            NativeMemory.AlignedFree(page);
        }
    }
}
