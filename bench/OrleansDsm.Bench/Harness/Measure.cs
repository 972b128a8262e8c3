using System.Diagnostics;

namespace OrleansDsm.Bench.Harness;

/// <summary>Latency and throughput of async operations, measured the same way for every subject.</summary>
public static class Measure
{
    /// <summary>Calls per subject before moving to the next, when subjects take turns.</summary>
    private const int Block = 25;

    /// <summary>
    /// Latencies in microseconds of <paramref name="count"/> sequential calls of each subject, sorted. The subjects
    /// take turns in small blocks, so that noise from the rest of this shared machine falls on all of them alike.
    /// </summary>
    public static async Task<List<double>[]> InterleavedLatenciesAsync(IReadOnlyList<Func<int, Task>> subjects, int count)
    {
        var latencies = subjects.Select(_ => new List<double>(count)).ToArray();
        for (var first = 0; first < count; first += Block)
            for (var s = 0; s < subjects.Count; s++)
                for (var i = first; i < Math.Min(first + Block, count); i++)
                {
                    var start = Stopwatch.GetTimestamp();
                    await subjects[s](i);
                    latencies[s].Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                }
        foreach (var list in latencies) list.Sort();
        return latencies;
    }

    /// <summary>Seconds <paramref name="work"/> takes, from its start to its end.</summary>
    public static async Task<double> SecondsAsync(Func<Task> work)
    {
        var start = Stopwatch.GetTimestamp();
        await work();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>Operations a second with <paramref name="outstanding"/> calls kept in flight for <paramref name="count"/> calls in all.</summary>
    public static Task<double> ThroughputAsync(Func<int, Task> operation, int count, int outstanding) =>
        ThroughputAsync((_, i) => operation(i), count, outstanding);

    /// <summary>
    /// Operations a second with <paramref name="outstanding"/> callers, each keeping one call in flight, for
    /// <paramref name="count"/> calls in all; <paramref name="operation"/> is given its caller's number (0 to
    /// <paramref name="outstanding"/> - 1) and the call's.
    /// </summary>
    public static async Task<double> ThroughputAsync(Func<int, int, Task> operation, int count, int outstanding)
    {
        var next = -1;
        var start = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, outstanding).Select(async caller =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count) await operation(caller, i);
        }));
        return count / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
}
