using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using OrleansDsm.Arrays;

namespace OrleansDsm.Bench.Micro;

/// <summary>
/// Reads from a fully cached Strict region beside the same reads from a plain <c>int[]</c>, in one process. Runs in
/// process (the array and its cache live in the bench client), so <see cref="Array"/> is set before the run.
/// </summary>
public class CachedReadBenchmarks
{
    public const int Elements = 1 << 20; // 4 MiB of int32: 1024 pages of 4 KiB

    public static SharedArray<int> Array { get; set; } = null!;

    /// <summary>
    /// The same values as <see cref="Array"/>, in a region whose every page this client has also written one element of
    /// since caching it, so that each cached copy lays that write's change over its bytes.
    /// </summary>
    public static SharedArray<int> WrittenArray { get; set; } = null!;

    private const int ElementsPerPage = 1024; // 4 KiB of int32

    private readonly int[] _local = new int[Elements];
    // The same values in 4 KiB arrays, one per page, as any cache that keeps pages apart must hold them.
    private readonly byte[][] _localPages = new byte[Elements / ElementsPerPage][];
    private readonly int[] _destination = new int[Elements];
    private int[] _randomOrder = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(3);
        for (var i = 0; i < Elements; i++) _local[i] = random.Next();
        _randomOrder = Enumerable.Range(0, Elements).OrderBy(_ => random.Next()).ToArray();
        for (var page = 0; page < _localPages.Length; page++)
            _localPages[page] = MemoryMarshal.AsBytes(_local.AsSpan(page * ElementsPerPage, ElementsPerPage)).ToArray();
    }

    [Benchmark(OperationsPerInvoke = Elements)]
    public long LocalSequential()
    {
        long sum = 0;
        for (var i = 0; i < Elements; i++) sum += _local[i];
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Elements)]
    public long CachedSequential()
    {
        long sum = 0;
        var array = Array;
        for (var i = 0; i < Elements; i++) sum += array[i];
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Elements)]
    public long LocalRandom()
    {
        long sum = 0;
        foreach (var i in _randomOrder) sum += _local[i];
        return sum;
    }

    /// <summary>
    /// Random reads from the pages kept as separate arrays, with no check at all: the floor of any cache that holds
    /// pages apart, which pays a load of the page's array before the element's and spreads the elements over more
    /// memory pages. What a cached read adds to it is what its coherence costs.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Elements)]
    public long LocalPagedRandom()
    {
        long sum = 0;
        var pages = _localPages;
        foreach (var i in _randomOrder)
            sum += Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(pages[i / ElementsPerPage]), i % ElementsPerPage * sizeof(int)));
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Elements)]
    public long CachedRandom() => SumInRandomOrder(Array);

    /// <summary>Random reads of pages this client wrote an element of after caching them: the copies it keeps then.</summary>
    [Benchmark(OperationsPerInvoke = Elements)]
    public long CachedRandomWrittenPages() => SumInRandomOrder(WrittenArray);

    // Inlined, so that the figure is the loop itself, as it was when each benchmark had its own.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long SumInRandomOrder(SharedArray<int> array)
    {
        long sum = 0;
        foreach (var i in _randomOrder) sum += array[i];
        return sum;
    }

    [Benchmark]
    public void LocalCopy() => _local.AsSpan().CopyTo(_destination);

    [Benchmark]
    public Task CachedBulkRead() => Array.ReadAsync(0, _destination);
}
