namespace OrleansDsm.Grains.Regions;

/// <summary>
/// A set of page numbers kept as sorted, disjoint runs, so that the pages a sequential fill touches cost one
/// entry however many there are.
/// </summary>
[GenerateSerializer]
internal sealed class PageSet
{
    /// <summary>Run starts, ascending; run i covers [Starts[i], Ends[i]).</summary>
    [Id(0)]
    public List<long> Starts { get; set; } = [];

    /// <summary>Run ends (exclusive), matching <see cref="Starts"/>.</summary>
    [Id(1)]
    public List<long> Ends { get; set; } = [];

    public long Count => Starts.Select((start, i) => Ends[i] - start).Sum();

    public bool Contains(long page)
    {
        var i = RunAtOrBefore(page);
        return i >= 0 && page < Ends[i];
    }

    /// <summary>Adds <paramref name="page"/>; returns false when it was already present.</summary>
    public bool Add(long page)
    {
        var i = RunAtOrBefore(page);
        if (i >= 0 && page < Ends[i]) return false;

        var joinsLeft = i >= 0 && Ends[i] == page;
        var joinsRight = i + 1 < Starts.Count && Starts[i + 1] == page + 1;
        if (joinsLeft && joinsRight)
        {
            Ends[i] = Ends[i + 1];
            Starts.RemoveAt(i + 1);
            Ends.RemoveAt(i + 1);
        }
        else if (joinsLeft)
        {
            Ends[i] = page + 1;
        }
        else if (joinsRight)
        {
            Starts[i + 1] = page;
        }
        else
        {
            Starts.Insert(i + 1, page);
            Ends.Insert(i + 1, page + 1);
        }
        return true;
    }

    public IEnumerable<long> Pages()
    {
        for (var i = 0; i < Starts.Count; i++)
            for (var page = Starts[i]; page < Ends[i]; page++)
                yield return page;
    }

    /// <summary>The pages from <paramref name="first"/> on, ascending, found without walking the runs before it.</summary>
    public IEnumerable<long> PagesFrom(long first)
    {
        for (var i = Math.Max(0, RunAtOrBefore(first)); i < Starts.Count; i++)
            for (var page = Math.Max(first, Starts[i]); page < Ends[i]; page++)
                yield return page;
    }

    /// <summary>The index of the last run starting at or before <paramref name="page"/>, or -1.</summary>
    private int RunAtOrBefore(long page)
    {
        var i = Starts.BinarySearch(page);
        return i >= 0 ? i : ~i - 1;
    }
}
