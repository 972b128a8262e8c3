using System.Collections.Concurrent;

namespace OrleansDsm.Grains.Pages;

/// <summary>
/// The pages active on this silo, so that a batch read served here takes each page's committed image without a grain
/// call per page (half of a 64 MiB range read's time went to those calls). A committed image never changes (writes
/// make a new one), and a page's own read is its checks and one look at that image, so the same checks and look from
/// another thread give what the page would have answered at that instant. A page is listed once it has activated and
/// leaves first thing when it deactivates. A look from another thread cannot wait in the page's place, so a page that
/// would wait (see <see cref="PageGrain.TryReadCommitted"/>) answers the call itself.
/// </summary>
internal sealed class LocalPages
{
    private readonly ConcurrentDictionary<long, PageGrain> _pages = new();

    public void Add(long page, PageGrain activation) => _pages[page] = activation;

    public void Remove(long page, PageGrain activation) => _pages.TryRemove(KeyValuePair.Create(page, activation));

    /// <summary>The activation of <paramref name="page"/> on this silo, if there is one.</summary>
    public PageGrain? Find(long page) => _pages.GetValueOrDefault(page);

    /// <summary>The pages active here that some session caches, as of a moment ago.</summary>
    public List<long> Cached() => [.. _pages.Where(entry => entry.Value.IsCached).Select(entry => entry.Key)];
}
