using System.Diagnostics;

namespace OrleansDsm.Bench.Harness;

/// <summary>The writes of the runs it is given to: how many, how long they took, and how long their callers ran.</summary>
public sealed class SetTally
{
    private long _count, _ticks;

    public long Count => _count;

    /// <summary>The writes' time, from each call to its return, in seconds.</summary>
    public double Seconds => (double)_ticks / Stopwatch.Frequency;

    /// <summary>The callers' time over the runs: each run's length times its callers.</summary>
    public double CallerSeconds { get; set; }

    public void Add(long ticks)
    {
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _ticks, ticks);
    }

    /// <summary>Adds the writes another process counted: <paramref name="count"/> of them, taking <paramref name="seconds"/> in all.</summary>
    public void Add(long count, double seconds)
    {
        Interlocked.Add(ref _count, count);
        Interlocked.Add(ref _ticks, (long)(seconds * Stopwatch.Frequency));
    }
}
