using OrleansDsm.Caching;
using OrleansDsm.Connection;
using OrleansDsm.Pages;

namespace OrleansDsm.Tests.Caching;

/// <summary>
/// Writes that reach a page while it is still revoking copies for an earlier write are published together, and a
/// holder of the version before them is then several versions behind. It is sent one revocation per version, in one
/// call, and keeps its copy, instead of being told to drop it and fetching the page again.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class RevocationRunTests(ClusterFixture fixture)
{
    [Fact]
    public Task A_reader_several_versions_behind_steps_through_writes_published_together_without_a_fetch() => WithinALeaseAsync(async () =>
    {
        await using var sessions = await CachingSessionAsync("run-reader");
        var (reader, writer, cache) = (sessions.Caching, sessions.Other, sessions.Cache);
        var (calls, misses) = (cache.Metrics.RevocationCalls, cache.Metrics.Misses);

        await WhilePublicationIsHeldUpAsync(sessions, () => writer.SetAsync(100, -100), () => writer.SetAsync(200, -200), () => writer.SetAsync(300, -300), () => writer.SetAsync(400, -400));

        // The first write's revocation, then one call carrying the other three writes' (had they been published one by
        // one, each would have had a call of its own).
        Assert.Equal(2, cache.Metrics.RevocationCalls - calls);
        await AssertCachesTheCurrentVersionAsync(sessions);
        var untouched = await Task.WhenAll(new long[] { 0, 5, 99, 101, 511 }.Select(i => reader.GetAsync(i).AsTask()));
        Assert.Equal(new long[] { 0, 5, 99, 101, 511 }, untouched);
        Assert.Equal(0, cache.Metrics.Misses - misses);

        // Every change of the run was sent with its bytes (the page kept them while its holders' revocations were in
        // flight), held back until the revocation of a later write: then served, with no fetch.
        await writer.SetAsync(450, -450);
        Assert.Equal(new long[] { -100, -200, -300, -400 }, await Task.WhenAll(new long[] { 100, 200, 300, 400 }.Select(i => reader.GetAsync(i).AsTask())));
        Assert.Equal(0, cache.Metrics.Misses - misses);
    });

    [Fact]
    public Task A_writer_whose_write_is_published_with_another_sessions_keeps_its_copy() => WithinALeaseAsync(async () =>
    {
        await using var sessions = await CachingSessionAsync("run-writer");
        var (own, other, cache) = (sessions.Caching, sessions.Other, sessions.Cache);
        var misses = cache.Metrics.Misses;

        // This session's write is published with the other session's next one: the page counts this session's copy as
        // holding its own write, but until the write returns the copy is still the version before it.
        await WhilePublicationIsHeldUpAsync(sessions, () => other.SetAsync(100, -100), () => own.SetAsync(200, -200), () => other.SetAsync(300, -300));

        await AssertCachesTheCurrentVersionAsync(sessions);
        Assert.Equal(new long[] { 0, 5, 99, 511 }, await Task.WhenAll(new long[] { 0, 5, 99, 511 }.Select(i => own.GetAsync(i).AsTask())));
        Assert.Equal(0, cache.Metrics.Misses - misses);
        Assert.Equal(new long[] { -100, -200, -300 }, await Task.WhenAll(new long[] { 100, 200, 300 }.Select(i => own.GetAsync(i).AsTask())));
    });

    [Fact]
    public async Task A_copy_left_unread_through_several_revocations_goes_and_writers_stop_waiting_for_it()
    {
        await using var sessions = await CachingSessionAsync("run-unread");
        var (reader, writer, cache) = (sessions.Caching, sessions.Other, sessions.Cache);
        var region = reader.Region;

        // Read between writes, the copy is kept up to date through each of them.
        var calls = cache.Metrics.RevocationCalls;
        for (var i = 1; i <= 3; i++)
        {
            await writer.SetAsync(100 + i, -i);
            Assert.Equal(5, await reader.GetAsync(5));
        }
        Assert.Equal(3, cache.Metrics.RevocationCalls - calls);
        await AssertCachesTheCurrentVersionAsync(sessions);

        // Not read again, only written (the session's own writes are no reads): kept through the next write and as many
        // more as may find it unread, dropped at the one after, and the write after that has no one left to revoke.
        calls = cache.Metrics.RevocationCalls;
        const int kept = 1 + CachedPage.UnreadRevocationsKept;
        for (var i = 0; i < kept; i++)
        {
            await writer.SetAsync(200 + i, -1);
            await reader.SetAsync(400 + i, -1);
        }
        Assert.Equal(kept, cache.Metrics.RevocationCalls - calls);
        await writer.SetAsync(300, -300);
        Assert.Equal(0, cache.Count); // the unread copy went
        await writer.SetAsync(301, -301);
        Assert.Equal(kept + 1, cache.Metrics.RevocationCalls - calls);
        Assert.Equal(0, (await fixture.Cluster.Client.GetGrain<IPageGrain>(region.FirstPage).GetState()).CacheHolders);
        Assert.Equal(-301, await reader.GetAsync(301));
    }

    [Fact]
    public Task Writes_made_while_every_holder_is_being_revoked_reach_it_together_with_their_bytes() => WithinALeaseAsync(async () =>
    {
        var array = await fixture.Client.AllocateAsync<long>(UniqueNames.For("run-bytes"), 512);
        await array.SetAsync(0, 1);
        var page = fixture.Cluster.Client.GetGrain<IPageGrain>(array.Region.FirstPage);
        var holder = new SlowHolder(keeps: true);
        var session = Guid.NewGuid();
        var held = System.Diagnostics.Stopwatch.StartNew();
        var filled = await page.Fill(array.Region.Epoch, session, fixture.Cluster.Client.CreateObjectReference<ICacheHolder>(holder));

        // The page's only holder is being revoked, and no session counts as one, while the next two writes are made.
        var writes = new List<Task> { array.SetAsync(10, 10) };
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (holder.Calls == 0)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), "the first write's revocation reached the holder");
            await RenewForAsync(page, session, TimeSpan.Zero);
        }
        writes.Add(array.SetAsync(20, 20));
        await RenewForAsync(page, session, TimeSpan.FromMilliseconds(20));
        writes.Add(array.SetAsync(30, 30));
        await RenewForAsync(page, session, TimeSpan.FromMilliseconds(50));
        var opened = held.Elapsed;
        holder.Open();
        await Task.WhenAll(writes);
        GC.KeepAlive(holder);
        LeaseOverrunException.ThrowIfPast(opened);

        Assert.Equal(2, holder.Calls);
        var run = holder.Received[1];
        var version = filled.Version;
        Assert.Equal(
            new[] { (version + 2, 20 * 8, 8, false), (version + 3, 30 * 8, 8, true) },
            run.Select(revocation => (revocation.Version, revocation.Offset, revocation.Length, revocation.Continues)));
        Assert.Equal(new long[] { 20, 30 }, run.Select(revocation => BitConverter.ToInt64(revocation.Bytes!)));
    });

    /// <summary>
    /// A session that caches a page holding 0 to 511 (its client fetches no neighbours), and another session of the
    /// same region that does not.
    /// </summary>
    private async Task<TwoSessions> CachingSessionAsync(string name)
    {
        var cachingClient = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { PrefetchPages = 0 });
        var otherClient = new DsmClient(fixture.Cluster.Client);
        var other = await otherClient.AllocateAsync<long>(UniqueNames.For(name), 512);
        await other.WriteAsync(0, Enumerable.Range(0, 512).Select(i => (long)i).ToArray());
        var caching = await cachingClient.OpenAsync<long>(other.Name);
        Assert.Equal(5, await caching.GetAsync(5)); // the fill
        return new TwoSessions(cachingClient, otherClient, caching, other);
    }

    private async Task AssertCachesTheCurrentVersionAsync(TwoSessions sessions)
    {
        var region = sessions.Caching.Region;
        if (!sessions.Cache.TryGet(region.FirstPage, region.Epoch, 0, 8, out var copy))
        {
            // Still cached yet not valid: a renewal came late on a busy machine and the session's lease lapsed, which
            // says nothing of the revocations; a copy the page had the session drop would be gone from the cache.
            if (sessions.Cache.Count == 1) throw new LeaseOverrunException("The caching session's lease lapsed before its copy was checked (a renewal came late)");
            Assert.Fail("the session still caches the page");
        }
        Assert.Equal((await fixture.Cluster.Client.GetGrain<IPageGrain>(region.FirstPage).GetState()).Version, copy.Version);
    }

    private sealed record TwoSessions(DsmClient CachingClient, DsmClient OtherClient, SharedArray<long> Caching, SharedArray<long> Other) : IAsyncDisposable
    {
        public PageCache Cache => CachingClient.Cache!;

        public async ValueTask DisposeAsync()
        {
            await CachingClient.DisposeAsync();
            await OtherClient.DisposeAsync();
        }
    }

    /// <summary>
    /// Starts <paramref name="first"/>, and the other writes once the caching session has answered the first's
    /// revocation (the page counts it as a holder of that version again) and read its copy (as a reader of a hot page
    /// does), and a holder that answers nothing until told has been sent it, a little apart so that they reach the
    /// page in order; then lets the holder answer, and waits for every write. The page publishes the first write alone
    /// and the others together. The page waits for the holder's answer no longer than the lease it had when the
    /// revocation went out, however it renews, so a run that took longer than a lease from the fill proves nothing and
    /// throws <see cref="LeaseOverrunException"/>.
    /// </summary>
    private async Task WhilePublicationIsHeldUpAsync(TwoSessions sessions, Func<Task> first, params Func<Task>[] others)
    {
        var (array, watched) = (sessions.Other, sessions.Cache);
        var answered = watched.Metrics.RevocationCalls;
        var page = fixture.Cluster.Client.GetGrain<IPageGrain>(array.Region.FirstPage);
        var slow = new SlowHolder();
        var session = Guid.NewGuid();
        var held = System.Diagnostics.Stopwatch.StartNew();
        await page.Fill(array.Region.Epoch, session, fixture.Cluster.Client.CreateObjectReference<ICacheHolder>(slow));
        Task RenewFor(TimeSpan time) => RenewForAsync(page, session, time);

        var writes = new List<Task> { first() };
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (slow.Calls == 0 || watched.Metrics.RevocationCalls == answered)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), "the first write's revocation reached both holders");
            await RenewFor(TimeSpan.Zero);
        }
        Assert.Equal(5, await sessions.Caching.GetAsync(5));
        await RenewFor(TimeSpan.FromMilliseconds(20));
        foreach (var write in others)
        {
            writes.Add(write());
            await RenewFor(TimeSpan.FromMilliseconds(20));
        }
        await RenewFor(TimeSpan.FromMilliseconds(50));
        var elapsed = held.Elapsed;
        if (elapsed >= ClusterFixture.CacheLease)
        {
            slow.Open();
            await Task.WhenAll(writes);
            LeaseOverrunException.ThrowIfPast(elapsed);
        }
        Assert.All(writes, write => Assert.False(write.IsCompleted, "no write returns while the first one's publication is held up"));
        slow.Open();
        await Task.WhenAll(writes);
        GC.KeepAlive(slow);
    }

    /// <summary>
    /// Runs <paramref name="scenario"/> again, up to three times in all, when the machine was too slow to play it out
    /// within the slow holder's lease: past it, the page rightly stops waiting for that holder, so what the scenario
    /// checks no longer has to hold.
    /// </summary>
    private static async Task WithinALeaseAsync(Func<Task> scenario)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await scenario();
                return;
            }
            catch (LeaseOverrunException) when (attempt < 3)
            {
            }
        }
    }

    /// <summary>
    /// The machine was too slow for the run to prove anything: a held-up revocation outlasted the lease the page granted
    /// with the fill, or the caching session's own lease lapsed before its copy was checked.
    /// </summary>
    private sealed class LeaseOverrunException(string what) : Exception($"{what}, on every attempt.")
    {
        /// <summary>Throws when <paramref name="elapsed"/>, the time since just before the fill, has reached the lease.</summary>
        public static void ThrowIfPast(TimeSpan elapsed)
        {
            if (elapsed >= ClusterFixture.CacheLease)
                throw new LeaseOverrunException($"The scenario took {elapsed.TotalMilliseconds:F0} ms from the slow holder's fill, not within its {ClusterFixture.CacheLease.TotalMilliseconds:F0} ms lease");
        }
    }

    /// <summary>Renews <paramref name="session"/>'s lease on <paramref name="page"/> for <paramref name="time"/> (once at least), so that the page never gives up on its answer.</summary>
    private static async Task RenewForAsync(IPageGrain page, Guid session, TimeSpan time)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        do
        {
            await page.Renew(session);
            await Task.Delay(20);
        }
        while (started.Elapsed < time);
    }
}
