using System.Collections.Concurrent;

namespace OrleansDsm.Grains.Pages;

/// <summary>
/// The pages active on this silo, so that a batch served here reaches each one without a grain call per page (half of
/// a 64 MiB range read's time, and most of a write's, went to those calls). A read takes the page's committed image:
/// it never changes (writes make a new one), and a page's own read is its checks and one look at that image, so the
/// same checks and look from another thread give what the page would have answered at that instant. A look from
/// another thread cannot wait in the page's place, so a page that would wait (see
/// <see cref="PageGrain.TryReadCommitted"/>) answers the call itself. A write runs on the page's own turn (see
/// <see cref="PageGrain.TryWriteHere"/>). A page is listed once it has activated and leaves first thing when it
/// deactivates.
/// </summary>
internal sealed class LocalPages
{
    private readonly ConcurrentDictionary<long, PageGrain> _pages = new();

    public void Add(long page, PageGrain activation) => _pages[page] = activation;

    public void Remove(long page, PageGrain activation) => _pages.TryRemove(KeyValuePair.Create(page, activation));

    /// <summary>The activation of <paramref name="page"/> on this silo, if there is one.</summary>
    public PageGrain? Find(long page) => _pages.GetValueOrDefault(page);

    /// <summary>How many pages active here hold acknowledged writes storage does not have yet.</summary>
    public int HoldingUnstoredWrites() => _pages.Values.Count(page => page.HoldsUnstoredWrites);

    /// <summary>The pages active here that some session caches, as of a moment ago.</summary>
    public List<long> Cached() => [.. _pages.Where(entry => entry.Value.IsCached).Select(entry => entry.Key)];
}
