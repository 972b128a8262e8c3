using OrleansDsm.Caching;
using OrleansDsm.Pages;

namespace OrleansDsm.Tests.Caching;

/// <summary>What the cache tests share: the page calls that count as reads and fills, and clients caching one page.</summary>
internal static class CachedPageScenarios
{
    /// <summary>The page calls that read: element and range reads, and fills.</summary>
    public static readonly string[] Reads = [nameof(IPageGrain.ReadElement), nameof(IPageGrain.Read), nameof(IPageGrain.Fill)];

    /// <summary>
    /// How many times a page was read for <paramref name="client"/>'s cache or without it: its cache's fills, made as
    /// calls or over the direct channel (which no page call counts), and every element or range read call.
    /// </summary>
    public static long PageReads(DsmClient client) =>
        ClusterFixture.PageCalls(nameof(IPageGrain.ReadElement), nameof(IPageGrain.Read)) + client.Cache!.Metrics.Misses;

    /// <summary>The page calls that fetch a page into a cache.</summary>
    public static readonly string[] Fills = [nameof(IPageGrain.Fill)];

    /// <summary>
    /// A client of its own (made with <paramref name="options"/>, if given) with one page written (element 0 holds 1)
    /// and cached: the client, the array, its cache, the page and its epoch.
    /// </summary>
    public static async Task<(DsmClient Client, SharedArray<long> Array, PageCache Cache, long Page, long Epoch, long Version)> OwnCachedPageAsync(
        ClusterFixture fixture, string name, OrleansDsm.Connection.DsmClientOptions? options = null)
    {
        var client = new DsmClient(fixture.Cluster.Client, options ?? new OrleansDsm.Connection.DsmClientOptions());
        var array = await client.AllocateAsync<long>(UniqueNames.For(name), 512);
        await array.SetAsync(0, 1);
        Assert.Equal(1, await array.GetAsync(0)); // the fill
        Assert.True(client.Cache!.TryGet(array.Region.FirstPage, array.Region.Epoch, out var copy));
        return (client, array, client.Cache, array.Region.FirstPage, array.Region.Epoch, copy.Version);
    }

    /// <summary>
    /// A writer's session and a reader's (no prefetch) over one page holding 0 to 511, which the reader has cached by
    /// reading element <paramref name="cached"/>.
    /// </summary>
    public static async Task<TwoSessions> ReaderCachingOnePageAsync(ClusterFixture fixture, string name, long cached)
    {
        var readerClient = new DsmClient(fixture.Cluster.Client, new OrleansDsm.Connection.DsmClientOptions { PrefetchPages = 0 });
        var writerClient = new DsmClient(fixture.Cluster.Client);
        var writer = await writerClient.AllocateAsync<long>(UniqueNames.For(name), 512);
        await writer.WriteAsync(0, Enumerable.Range(0, 512).Select(i => (long)i).ToArray());
        var reader = await readerClient.OpenAsync<long>(writer.Name);
        Assert.Equal(cached, await reader.GetAsync(cached)); // the fill
        return new TwoSessions(readerClient, writerClient, reader, writer);
    }
}

/// <summary>A reader's and a writer's client over one array, disposed together.</summary>
internal sealed record TwoSessions(DsmClient ReaderClient, DsmClient WriterClient, SharedArray<long> Reader, SharedArray<long> Writer) : IAsyncDisposable
{
    /// <summary>How many pages the reader's cache has fetched, by fill calls or over the direct channel.</summary>
    public long ReaderFills => ReaderClient.Cache!.Metrics.Misses;

    public async ValueTask DisposeAsync()
    {
        await ReaderClient.DisposeAsync();
        await WriterClient.DisposeAsync();
    }
}
