using System.Diagnostics.Metrics;
using OrleansDsm.Connection;

namespace OrleansDsm.Tests.Release;

/// <summary>
/// Release regions on the in-process two-silo cluster: a client's writes stay with it (and it reads them back) until
/// a release point; a release sends one call per dirty page carrying only the changed bytes; a process that acquires
/// after the release sees everything; atomic operations keep program order; and a release that cannot be applied says
/// why and loses nothing it could still apply.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ReleaseConsistencyTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Writes_stay_with_the_writer_until_it_releases_and_a_release_sends_one_call_per_dirty_page()
    {
        await using var writerClient = new DsmClient(fixture.Cluster.Client);
        await using var readerClient = new DsmClient(fixture.Cluster.Client);
        var name = UniqueNames.For("release");
        var writer = await writerClient.AllocateAsync<long>(name, 8 * 512, Consistency.Release);
        var reader = await readerClient.OpenAsync<long>(name);
        using var metrics = new ReleaseMetricsProbe(writerClient.CacheSession!.Value);

        await writer.SetAsync(1, 11);
        await writer.SetAsync(2, 12);
        await writer.SetAsync(512 + 7, 17);
        await writer.WriteAsync(3 * 512 - 1, new long[] { 21, 22, 23 });   // pages 2 and 3

        Assert.Equal(11, await writer.GetAsync(1));
        var own = new long[4];
        await writer.ReadAsync(3 * 512 - 2, own);
        Assert.Equal([0L, 21, 22, 23], own);
        Assert.Equal(0, await reader.GetAsync(1));
        Assert.Equal(0, await reader.GetAsync(3 * 512));
        Assert.Equal(0, metrics.Calls);

        await writerClient.ReleaseAsync();

        Assert.Equal(4, metrics.Calls);   // pages 0, 1, 2 and 3, once each
        Assert.Equal(4, metrics.Pages);
        Assert.Equal(6 * sizeof(long), metrics.Bytes);   // only the six elements written, not four pages
        Assert.Equal(11, await reader.GetAsync(1));
        Assert.Equal(12, await reader.GetAsync(2));
        Assert.Equal(17, await reader.GetAsync(512 + 7));
        var seen = new long[3];
        await reader.ReadAsync(3 * 512 - 1, seen);
        Assert.Equal([21L, 22, 23], seen);

        await writerClient.ReleaseAsync();
        Assert.Equal(4, metrics.Calls);   // nothing left to send
    }

    [Fact]
    public async Task A_write_that_sets_bytes_back_to_what_lies_beneath_an_earlier_release_still_sends_them()
    {
        // The first release leaves this client's cached copy with its change laid over the bytes beneath (0). The
        // second write's byte 3 equals those beneath but not the served value, so a diff against the bytes beneath
        // would leave the page at 0x0c22ec9f (found by the client API fuzz test).
        await using var client = new DsmClient(fixture.Cluster.Client);
        await using var other = new DsmClient(fixture.Cluster.Client);
        var name = UniqueNames.For("twin-over");
        var array = await client.AllocateAsync<long>(name, 512, Consistency.Release);
        await array.SetAsync(0, 1);
        await client.ReleaseAsync(); // the page has bytes now, which a copy can hold
        Assert.Equal(0, await array.GetAsync(9)); // cached
        await array.SetAsync(9, 0x0c000000);
        await client.ReleaseAsync();
        Assert.Equal(0x0c000000, await array.GetAsync(9));

        await array.SetAsync(9, 0x0022ec9f);
        await client.ReleaseAsync();

        Assert.Equal(0x0022ec9f, await (await other.OpenAsync<long>(name)).GetAsync(9));
    }

    [Fact]
    public async Task A_release_sends_only_bytes_that_differ_from_the_page_as_first_written_and_nothing_for_a_page_left_as_it_was()
    {
        await using var client = new DsmClient(fixture.Cluster.Client);
        var array = await client.AllocateAsync<long>(UniqueNames.For("twin"), 4 * 512, Consistency.Release);
        await array.SetAsync(512, 5);
        await client.ReleaseAsync();
        using var metrics = new ReleaseMetricsProbe(client.CacheSession!.Value);
        var (calls, pages, bytes) = (metrics.Calls, metrics.Pages, metrics.Bytes);
        await array.GetAsync(0);     // the cache now holds pages 0 and 1: twins for the writes below
        await array.GetAsync(512);

        await array.WriteAsync(0, new long[64]);            // zeros over zeros: page 0 is left as it was
        await array.SetAsync(512, 5);                       // the same value again
        await array.SetAsync(513, 6);                       // the one real change
        await client.ReleaseAsync();

        Assert.Equal(calls + 1, metrics.Calls);
        Assert.Equal(pages + 1, metrics.Pages);
        Assert.Equal(bytes + 1, metrics.Bytes);   // 6 differs from 0 in its low byte only
        await using var other = new DsmClient(fixture.Cluster.Client);
        var seen = await other.OpenAsync<long>(array.Name);
        Assert.Equal(5, await seen.GetAsync(512));
        Assert.Equal(6, await seen.GetAsync(513));
    }

    [Fact]
    public async Task A_write_after_an_acquire_is_sent_even_where_it_restores_the_bytes_the_page_had_at_the_first_write()
    {
        await using var first = new DsmClient(fixture.Cluster.Client);
        await using var second = new DsmClient(fixture.Cluster.Client);
        var lockName = UniqueNames.For("twin-lock");
        var a = await first.AllocateAsync<long>(UniqueNames.For("twin-acquire"), 512, Consistency.Release);
        var b = await second.OpenAsync<long>(a.Name);
        await a.GetAsync(0);          // cached: the next write's twin holds element 0 = 0
        await a.SetAsync(1, 7);       // page dirty, twin taken, not released

        await using (await second.Lock(lockName).AcquireAsync())
            await b.SetAsync(0, 5);
        await using (await first.Lock(lockName).AcquireAsync())
            await a.SetAsync(0, 0);   // equal to the twin, not to what the page holds now

        await using var third = new DsmClient(fixture.Cluster.Client);
        var seen = await third.OpenAsync<long>(a.Name);
        Assert.Equal(0, await seen.GetAsync(0));
        Assert.Equal(7, await seen.GetAsync(1));
    }

    [Fact]
    public async Task A_process_that_takes_the_lock_after_a_release_sees_what_was_written_under_it()
    {
        await using var first = new DsmClient(fixture.Cluster.Client);
        await using var second = new DsmClient(fixture.Cluster.Client);
        var name = UniqueNames.For("guarded");
        var lockName = UniqueNames.For("guard");
        var a = await first.AllocateAsync<int>(name, 4096, Consistency.Release);
        var b = await second.OpenAsync<int>(name);
        await b.GetAsync(0);   // the second client caches the page before the first writes

        await using (var hold = await first.Lock(lockName).AcquireAsync())
        {
            var guarded = a.Fenced(hold);
            for (var i = 0; i < 100; i++) await guarded.SetAsync(i, i + 1);
        }
        await using (await second.Lock(lockName).AcquireAsync())
        {
            for (var i = 0; i < 100; i++) Assert.Equal(i + 1, await b.GetAsync(i));
        }
    }

    [Fact]
    public async Task An_atomic_operation_follows_the_writes_made_before_it_on_its_page()
    {
        await using var client = new DsmClient(fixture.Cluster.Client);
        var array = await client.AllocateAsync<long>(UniqueNames.For("ordered"), 1024, Consistency.Release);
        await array.SetAsync(5, 40);
        await array.SetAsync(600, 1);
        Assert.Equal(42, await array.AddAsync(5, 2));
        Assert.Equal(42, await array.CompareExchangeAsync(5, 50, 42));
        // The page of element 600 was not released by the add, and still waits for a release.
        await using var other = new DsmClient(fixture.Cluster.Client);
        var seen = await other.OpenAsync<long>(array.Name);
        Assert.Equal(50, await seen.GetAsync(5));
        Assert.Equal(0, await seen.GetAsync(600));
        Assert.False(await seen.WaitForChangeAsync(600, 0, TimeSpan.Zero));
        await client.ReleaseAsync();
        Assert.Equal(1, await seen.GetAsync(600));
    }

    [Fact]
    public async Task A_release_to_a_freed_region_fails_and_drops_its_writes()
    {
        await using var client = new DsmClient(fixture.Cluster.Client);
        var name = UniqueNames.For("freed");
        var array = await client.AllocateAsync<int>(name, 1024, Consistency.Release);
        await array.SetAsync(1, 7);
        await fixture.Client.FreeAsync(name, array.OwnerToken);

        await Assert.ThrowsAsync<RegionFreedException>(() => client.ReleaseAsync());
        await client.ReleaseAsync();   // nothing is left to send
        var again = await client.AllocateAsync<int>(name, 1024, Consistency.Release);
        Assert.Equal(0, await again.GetAsync(1));
    }

    [Fact]
    public async Task Writes_under_a_hold_that_ended_are_refused_at_release_and_change_nothing()
    {
        await using var stale = new DsmClient(fixture.Cluster.Client);
        await using var next = new DsmClient(fixture.Cluster.Client);
        var lockName = UniqueNames.For("lost");
        var array = await stale.AllocateAsync<int>(UniqueNames.For("lost-data"), 1024, Consistency.Release);
        var hold = await stale.Lock(lockName, TimeSpan.FromMilliseconds(400)).AcquireAsync();
        await array.Fenced(hold).SetAsync(3, 99);
        await hold.StopRenewingAsync();
        // The next holder keeps a long lease: a short one could lapse on a loaded machine before the test ends.
        await using var nextHold = await next.Lock(lockName, TimeSpan.FromSeconds(10)).TryAcquireAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(nextHold);

        await Assert.ThrowsAsync<LockLostException>(async () => await hold.DisposeAsync());
        Assert.Equal(0, await (await next.OpenAsync<int>(array.Name)).GetAsync(3));
        await stale.ReleaseAsync();   // the refused writes were dropped
        Assert.Equal(0, await array.GetAsync(3));
    }

    [Fact]
    public async Task A_release_whose_answer_is_lost_keeps_its_writes_and_sends_them_again_once()
    {
        await using var client = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { RetryBudget = TimeSpan.Zero });
        var array = await client.AllocateAsync<long>(UniqueNames.For("lost-answer"), 1024, Consistency.Release);
        using var metrics = new ReleaseMetricsProbe(client.CacheSession!.Value);
        await array.SetAsync(9, 9);

        ClusterFixture.LoseResponses("WriteRuns", 1);
        await Assert.ThrowsAsync<TimeoutException>(() => client.ReleaseAsync());
        Assert.Equal(9, await array.GetAsync(9));
        await array.SetAsync(10, 10);   // joins the kept writes, so they go again under a new id
        await client.ReleaseAsync();

        Assert.Equal(2, metrics.Calls);
        await using var other = new DsmClient(fixture.Cluster.Client);
        var seen = await other.OpenAsync<long>(array.Name);
        Assert.Equal(9, await seen.GetAsync(9));
        Assert.Equal(10, await seen.GetAsync(10));
    }

    [Fact]
    public async Task Writes_left_to_a_freed_region_are_dropped_without_failing_calls_on_a_new_region_at_its_address()
    {
        await using var client = new DsmClient(fixture.Cluster.Client);
        var old = await client.AllocateAsync<long>(UniqueNames.For("reused-old"), 512, Consistency.Release);
        await old.SetAsync(5, 55);   // buffered, never released
        await client.FreeAsync(old.Name);
        // Allocation is first-fit: the holes below the freed range fill first, then the range itself comes back.
        var fillers = new List<string>();
        SharedArray<long> reused;
        while ((reused = await client.AllocateAsync<long>(UniqueNames.For("reused-new"), 512, Consistency.Release)).BaseAddress != old.BaseAddress)
        {
            fillers.Add(reused.Name);
            Assert.True(fillers.Count < 200, "the freed range never came back");
        }

        Assert.Equal(7, await reused.AddAsync(5, 7));   // its page's leftover write goes first, is refused, and dropped
        await reused.SetAsync(6, 66);
        await client.ReleaseAsync();

        await using var other = new DsmClient(fixture.Cluster.Client);
        var seen = await other.OpenAsync<long>(reused.Name);
        Assert.Equal(7, await seen.GetAsync(5));
        Assert.Equal(66, await seen.GetAsync(6));
        await Task.WhenAll(fillers.Append(reused.Name).Select(name => client.FreeAsync(name)));
    }

    /// <summary>Reads the release counters of one client session from the <c>OrleansDsm.Client</c> meter.</summary>
    private sealed class ReleaseMetricsProbe : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly string _session;
        private readonly Dictionary<string, long> _values = [];

        public ReleaseMetricsProbe(Guid session)
        {
            _session = session.ToString();
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "OrleansDsm.Client" && instrument.Name.StartsWith("dsm.release.")) listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                foreach (var tag in tags)
                    if (tag.Key == "dsm.session" && (string?)tag.Value == _session) _values[instrument.Name] = value;
            });
            _listener.Start();
        }

        public long Calls => Read("dsm.release.calls");
        public long Pages => Read("dsm.release.pages");
        public long Bytes => Read("dsm.release.bytes");

        private long Read(string name)
        {
            _values.Clear();
            _listener.RecordObservableInstruments();
            return _values.GetValueOrDefault(name);
        }

        public void Dispose() => _listener.Dispose();
    }
}
