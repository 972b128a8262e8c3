using System.Diagnostics;
using OrleansDsm.Arrays;

namespace OrleansDsm.Bench.Harness;

/// <summary>
/// The read-mostly mix of the cache issue's goal, as one client makes it: 95% gets and 5% sets of random elements,
/// pages chosen by a Zipf distribution (s = 0.99) over <see cref="Pages"/> pages of 512 longs. The workloads that run
/// it in one process and in several share it, so both measure the same mix.
/// </summary>
public static class ZipfMix
{
    /// <summary>The pages the mix touches: a region of this many pages of 512 longs.</summary>
    public const int Pages = 1000;

    /// <summary>Elements of a region that holds <see cref="Pages"/> pages.</summary>
    public const long Elements = Pages * 512L;

    /// <summary>The cumulative distribution of the mix's Zipf law over its pages.</summary>
    public static double[] Table()
    {
        var weights = Enumerable.Range(1, Pages).Select(rank => 1 / Math.Pow(rank, 0.99)).ToArray();
        var total = weights.Sum();
        var cumulative = new double[Pages];
        double running = 0;
        for (var i = 0; i < Pages; i++) cumulative[i] = running += weights[i] / total;
        return cumulative;
    }

    /// <summary>Reads one element of every page of the mix through <paramref name="array"/>: a client in steady state has read them all.</summary>
    public static async Task ReadEveryPageAsync(SharedArray<long> array)
    {
        for (var page = 0; page < Pages; page++) await array.GetAsync(page * 512L);
    }

    /// <summary>
    /// Makes <paramref name="operations"/> operations of the mix on <paramref name="array"/>, <paramref name="outstanding"/>
    /// at a time, adding the sets it made and their time to <paramref name="writes"/>, if given.
    /// </summary>
    public static Task RunClientAsync(SharedArray<long> array, double[] table, int operations, int outstanding, SetTally? writes) =>
        Measure.ThroughputAsync(async i =>
        {
            var random = Random.Shared;
            var found = Array.BinarySearch(table, random.NextDouble());
            var page = found < 0 ? ~found : found;
            var index = Math.Min(page, Pages - 1) * 512L + random.Next(512);
            if (random.Next(100) < 5)
            {
                var started = Stopwatch.GetTimestamp();
                await array.SetAsync(index, i);
                writes?.Add(Stopwatch.GetTimestamp() - started);
            }
            else await array.GetAsync(index);
        }, operations, outstanding);
}
