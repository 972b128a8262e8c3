using System.Diagnostics;
using OrleansDsm.Caching;

namespace OrleansDsm.Tests.Units;

/// <summary>
/// The clock every cached read checks its lease against: it must be the monotonic clock it claims to be, in
/// milliseconds, whichever function it found to read it.
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
    public void It_reads_the_clock_the_runtime_counts_ticks_on()
    {
        // Environment.TickCount64 reads CLOCK_MONOTONIC_COARSE on Linux too, through the runtime (and is the lease
        // clock elsewhere): the same clock, so the two agree to a tick, read one after the other.
        var before = Environment.TickCount64;
        var clock = LeaseClock.NowMilliseconds;
        var after = Environment.TickCount64;
        Assert.InRange(clock, before - Granularity, after + Granularity);
    }
}
