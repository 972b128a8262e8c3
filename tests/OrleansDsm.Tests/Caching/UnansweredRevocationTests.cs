using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OrleansDsm.Caching;
using OrleansDsm.Pages;

namespace OrleansDsm.Tests.Caching;

/// <summary>
/// Holders slow or silent when revoked: a writer waits at most one lease for one, revocations that pile up meanwhile
/// travel together, and a holder that renews but never answers loses its term.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class UnansweredRevocationTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_holder_that_never_answers_stalls_a_writer_for_at_most_one_lease()
    {
        var array = await fixture.Client.AllocateAsync<int>(UniqueNames.For("stall"), 1024);
        await array.SetAsync(0, 1);
        var page = fixture.Cluster.Client.GetGrain<IPageGrain>(array.Region.FirstPage);
        var silent = new SlowHolder(); // never opened: a holder that died
        var reference = fixture.Cluster.Client.CreateObjectReference<ICacheHolder>(silent);
        await page.Fill(array.Region.Epoch, Guid.NewGuid(), reference);
        var unansweredBefore = RevocationsUnanswered();

        var stalled = Stopwatch.StartNew();
        await array.SetAsync(0, 2);
        stalled.Stop();
        GC.KeepAlive(silent);

        // It waited for the silent holder, but not without end: a write stuck on a silent holder would never return.
        // The upper bound leaves a whole lease of slack for this shared machine's scheduling (CI once took 1.2 leases more).
        Assert.True(stalled.Elapsed >= ClusterFixture.CacheLease / 2 && stalled.Elapsed <= ClusterFixture.CacheLease * 3,
            $"the write stalled {stalled.Elapsed.TotalMilliseconds:0} ms with a {ClusterFixture.CacheLease.TotalMilliseconds:0} ms lease");
        // The silent holder was dropped with its copy's revocation: the next write asks nothing of it, so it cannot
        // stall on it (counted, not timed, so a slow machine cannot fail it).
        await array.SetAsync(0, 3);
        Assert.Equal(1, silent.Calls);
        Assert.Equal(3, await array.GetAsync(0));
        // The silo counts it, so an operator sees writes waiting on clients that do not answer.
        Assert.True(RevocationsUnanswered() > unansweredBefore, "the silent holder's revocation should be counted as unanswered");
    }

    private long RevocationsUnanswered() =>
        fixture.Cluster.Silos.Sum(silo => silo.ServiceProvider.GetRequiredService<Grains.Metrics.SiloMetrics>().Totals.RevocationsUnanswered);

    [Fact]
    public async Task Revocations_for_one_session_that_pile_up_while_it_answers_reach_it_together()
    {
        const int Pages = 8;
        var array = await fixture.Client.AllocateAsync<long>(UniqueNames.For("revocations-together"), Pages * 512L);
        await array.WriteAsync(0, new long[Pages * 512]);
        var pages = Enumerable.Range(0, Pages).Select(i => fixture.Cluster.Client.GetGrain<IPageGrain>(array.Region.FirstPage + i)).ToArray();
        var slow = new SlowHolder();
        var session = Guid.NewGuid();
        var reference = fixture.Cluster.Client.CreateObjectReference<ICacheHolder>(slow);
        foreach (var page in pages) await page.Fill(array.Region.Epoch, session, reference);

        // One write a page, all at once. The holder answers nothing until the writes have had time to reach their
        // pages, renewing meanwhile so that no page gives up on it: every revocation that came meanwhile waits for it.
        var writes = Enumerable.Range(0, Pages).Select(i => array.SetAsync(i * 512L, i + 1)).ToArray();
        var held = Stopwatch.StartNew();
        while (slow.Calls == 0 || held.Elapsed < TimeSpan.FromMilliseconds(200))
        {
            Assert.True(held.Elapsed < TimeSpan.FromSeconds(10), "no revocation reached the holder");
            await Task.WhenAll(pages.Select(page => page.Renew(session)));
            await Task.Delay(20);
        }
        slow.Open();
        await Task.WhenAll(writes);
        GC.KeepAlive(slow);

        Assert.Equal(Pages, slow.Revocations);
        Assert.True(slow.Calls < Pages, $"{slow.Calls} calls carried the {Pages} revocations");
        Assert.Equal(Enumerable.Range(1, Pages).Select(i => (long)i), await Task.WhenAll(Enumerable.Range(0, Pages).Select(i => array.GetAsync(i * 512L).AsTask())));
    }

    [Fact]
    public async Task A_holder_that_renews_but_never_answers_a_revocation_loses_its_term()
    {
        var array = await fixture.Client.AllocateAsync<int>(UniqueNames.For("silent-renewer"), 1024);
        await array.SetAsync(0, 1);
        var page = fixture.Cluster.Client.GetGrain<IPageGrain>(array.Region.FirstPage);
        var silent = new SlowHolder(); // never opened: a holder that died
        var reference = fixture.Cluster.Client.CreateObjectReference<ICacheHolder>(silent);
        var session = Guid.NewGuid();
        var granted = (await page.Fill(array.Region.Epoch, session, reference)).Lease;

        // The holder keeps renewing, so its copy stays valid past the lease it had when the revocation went out.
        // It renews until the write returns or for eight leases, so a write that renewals kept waiting would take eight.
        using var stop = new CancellationTokenSource(ClusterFixture.CacheLease * 8);
        var renewing = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await page.Renew(session);
                await Task.Delay(50);
            }
        });
        var stalled = Stopwatch.StartNew();
        await array.SetAsync(0, 2);
        stalled.Stop();
        await stop.CancelAsync();
        await renewing;
        GC.KeepAlive(silent);

        // The write waited out the renewed lease too (1.5 to 2 leases), yet well short of the renewals' eight; the renewals
        // after it start a new term, which revives nothing.
        Assert.True(stalled.Elapsed >= ClusterFixture.CacheLease * 1.5 && stalled.Elapsed <= ClusterFixture.CacheLease * 5,
            $"the write stalled {stalled.Elapsed.TotalMilliseconds:0} ms with a {ClusterFixture.CacheLease.TotalMilliseconds:0} ms lease");
        Assert.True((await page.Renew(session)).Term > granted.Term);
    }
}
