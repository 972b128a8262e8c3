namespace OrleansDsm.Grains.Regions;

/// <summary>
/// Hands out page-aligned ranges of the address space first-fit and takes them back, merging neighbours. Page 0 is
/// never handed out, so address zero means "none". It works in pages, so every range it returns is aligned.
/// </summary>
[GenerateSerializer]
internal sealed class AddressRangeAllocator
{
    /// <summary>The end of the usable address space, in pages of any size: 2^62 bytes keeps all byte arithmetic in a long.</summary>
    public static long EndPage(int pageSize) => (1L << 62) / pageSize;

    /// <summary>Free runs of pages, sorted by start and never adjacent.</summary>
    [Id(0)]
    public List<PageRun> Free { get; set; } = [];

    public static AddressRangeAllocator ForPageSize(int pageSize) => new() { Free = [new PageRun(1, EndPage(pageSize) - 1)] };

    /// <summary>Takes <paramref name="pages"/> pages from the first free run large enough, or returns null.</summary>
    public long? Take(long pages)
    {
        var i = Free.FindIndex(run => run.Count >= pages);
        if (i < 0) return null;
        var run = Free[i];
        if (run.Count == pages) Free.RemoveAt(i);
        else Free[i] = new PageRun(run.Start + pages, run.Count - pages);
        return run.Start;
    }

    /// <summary>Returns a run taken earlier.</summary>
    public void Give(long start, long pages)
    {
        var i = Free.FindIndex(run => run.Start > start);
        if (i < 0) i = Free.Count;
        Free.Insert(i, new PageRun(start, pages));
        if (i + 1 < Free.Count && Free[i].End == Free[i + 1].Start)
        {
            Free[i] = new PageRun(Free[i].Start, Free[i].Count + Free[i + 1].Count);
            Free.RemoveAt(i + 1);
        }
        if (i > 0 && Free[i - 1].End == Free[i].Start)
        {
            Free[i - 1] = new PageRun(Free[i - 1].Start, Free[i - 1].Count + Free[i].Count);
            Free.RemoveAt(i);
        }
    }
}

/// <summary>A run of consecutive pages.</summary>
[GenerateSerializer, Immutable]
internal readonly record struct PageRun(long Start, long Count)
{
    public long End => Start + Count;
}
