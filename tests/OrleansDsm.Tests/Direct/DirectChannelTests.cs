using Microsoft.Extensions.DependencyInjection;
using OrleansDsm.Connection;
using OrleansDsm.Direct;
using OrleansDsm.Grains.Direct;
using OrleansDsm.Pages;
using OrleansDsm.Regions;
using OrleansDsm.Testing;

namespace OrleansDsm.Tests.Direct;

/// <summary>
/// Single-element gets of Uncached regions, and sets and atomics, go through the silo's direct channel: a page active on that silo
/// answers without a grain call, a page elsewhere through the call the silo makes for the client, and whatever the
/// channel does not do (a freed region, a connection that broke) the client's own Orleans call does, with its errors.
/// The clients of one Orleans client with the same TLS and timeouts share one connection, each under its own session.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class DirectChannelTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_page_on_the_channels_silo_is_read_and_written_without_a_grain_call()
    {
        await using var client = new DsmClient(fixture.Cluster.Client);
        var channel = await ConnectedChannels.OfAsync(client);
        var array = await UncachedPageAsync(client, channel, "direct-local", onChannelsSilo: true, index: 0, value: 1L);
        const long index = 7;
        var calls = CallsOn(array.Region, nameof(IPageGrain.ReadElement), nameof(IPageGrain.WriteElement));
        var served = channel.Served;

        await array.SetAsync(index, 4242);
        Assert.Equal(4242, await array.GetAsync(index));

        Assert.Equal(served + 2, channel.Served);
        Assert.Equal(calls, CallsOn(array.Region, nameof(IPageGrain.ReadElement), nameof(IPageGrain.WriteElement)));
        // The page itself holds the value: a client without the channel reads it through a call.
        await using var plain = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { DirectChannel = false });
        Assert.Null(plain.Direct);
        Assert.Equal(4242, await (await plain.OpenAsync<long>(array.Name)).GetAsync(index));
    }

    [Fact]
    public async Task A_client_given_tls_does_not_ride_the_connection_another_client_of_its_orleans_client_opened_in_the_clear()
    {
        await using var plain = new DsmClient(fixture.Cluster.Client);
        var array = await plain.AllocateAsync<long>(UniqueNames.For("channel-shared-tls"), 512, Consistency.Uncached);
        await ConnectedChannels.OfAsync(plain);
        using var certificates = new TestCertificates("channel-shared-authority");
        await using var guarded = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { TlsCertificate = certificates.Issue("client", server: false) });
        var mine = await guarded.OpenAsync<long>(array.Name);

        await mine.SetAsync(1, 11);
        Assert.Equal(11, await mine.GetAsync(1));

        Assert.Equal(0, guarded.Direct!.Served);
        Assert.Null(guarded.Direct.Connection);
        // The plain client keeps its own connection.
        var served = plain.Direct!.Served;
        Assert.Equal(11, await array.GetAsync(1));
        Assert.Equal(served + 1, plain.Direct.Served);
    }

    [Fact]
    public async Task A_page_on_another_silo_is_reached_over_a_connection_to_that_silo_once_the_client_has_learned_where_it_is()
    {
        await using var client = new DsmClient(fixture.Cluster.Client);
        var channel = await ConnectedChannels.OfAsync(client);
        var array = await UncachedPageAsync(client, channel, "direct-home", onChannelsSilo: false, index: 0, value: 1L);
        var page = array.Region.FirstPage;
        var elsewhere = SiloOf(channel, connected: false);

        // The gateway's silo passes the first requests on, and says so; the client asks the page where it is, and connects there.
        await RoutedAsync(array, channel, page, toGateway: false);
        using (var meter = new ChannelMeter(channel.Session))
            Assert.Equal((1, 2), (meter.Read()["dsm.direct.connected"], meter.Read()["dsm.direct.connections"]));
        var metrics = elsewhere.ServiceProvider.GetRequiredService<Grains.Metrics.SiloMetrics>();
        var (served, calls) = (metrics.Totals.DirectRequestsServed, CallsOn(array.Region, nameof(IPageGrain.ReadElement), nameof(IPageGrain.WriteElement)));
        await array.SetAsync(7, 77);
        Assert.Equal(77, await array.GetAsync(7));
        Assert.Equal(served + 2, metrics.Totals.DirectRequestsServed);
        Assert.Equal(calls, CallsOn(array.Region, nameof(IPageGrain.ReadElement), nameof(IPageGrain.WriteElement)));

        // The page moves back: the silo it left passes its requests on, correctly, until the client learns that too.
        await MoveAsync(page, SiloOf(channel, connected: true));
        await array.SetAsync(8, 88);
        Assert.Equal(88, await array.GetAsync(8));
        await RoutedAsync(array, channel, page, toGateway: true);
        Assert.Equal(77, await array.GetAsync(7));
    }

    [Fact]
    public async Task A_connection_to_another_silo_closes_once_nothing_uses_it_and_opens_again_for_the_next_request()
    {
        var idle = TimeSpan.FromSeconds(1);
        await using var client = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { DirectIdleTimeout = idle });
        var channel = await ConnectedChannels.OfAsync(client);
        var array = await UncachedPageAsync(client, channel, "direct-idle", onChannelsSilo: false, index: 1, value: 11L);
        var page = array.Region.FirstPage;
        await RoutedAsync(array, channel, page, toGateway: false);
        using var meter = new ChannelMeter(channel.Session);

        // In use (a request every fifth of the timeout) for twice the timeout: it stays open.
        for (var used = System.Diagnostics.Stopwatch.StartNew(); used.Elapsed < idle * 2; await Task.Delay(idle / 5))
        {
            Assert.Equal(11, await array.GetAsync(1));
            Assert.Equal(2, meter.Read()["dsm.direct.connections"]);
        }

        // Unused, it closes; the connection to the gateway's silo stays.
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); meter.Read()["dsm.direct.connections"] != 1; await Task.Delay(50))
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(15), "the idle connection to the other silo did not close within 15 s");
        Assert.NotNull(channel.Current);
        Assert.Equal(11, await array.GetAsync(1));

        // The page's next requests open it again, and it serves them.
        await RoutedAsync(array, channel, page, toGateway: false);
        Assert.Equal(2, meter.Read()["dsm.direct.connections"]);
        var served = channel.Served;
        await array.SetAsync(2, 22);
        Assert.Equal(22, await array.GetAsync(2));
        Assert.Equal(served + 2, channel.Served);
    }

    [Fact]
    public void An_idle_timeout_that_is_not_positive_is_refused_by_name()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new DsmClient(fixture.Cluster.Client, new DsmClientOptions { DirectIdleTimeout = TimeSpan.Zero }));
        Assert.Contains("DirectIdleTimeout", error.Message);
    }

    [Fact]
    public async Task A_cached_page_on_another_silo_is_filled_and_revoked_over_the_connection_to_its_silo()
    {
        await using var reader = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { PrefetchPages = 0 });
        var channel = await ConnectedChannels.OfAsync(reader);
        await using var writer = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { DirectChannel = false });
        var array = await reader.AllocateAsync<long>(UniqueNames.For("direct-home-strict"), 512);
        var written = await writer.OpenAsync<long>(array.Name);
        await written.SetAsync(0, 1);
        var page = array.Region.FirstPage;
        var elsewhere = SiloOf(channel, connected: false);
        await MoveAsync(page, elsewhere);

        // Fills, each after a write that took the reader's copy, until the reader sends them to the page's own silo.
        for (var waited = 0; channel.For(page) == channel.Current; waited += 50)
        {
            Assert.True(waited < 15_000, $"Fills of page {page} did not go to its own silo within 15 s.");
            await written.SetAsync(1, waited);
            Assert.Equal(waited, await array.GetAsync(1));
            await Task.Delay(50);
        }
        var metrics = elsewhere.ServiceProvider.GetRequiredService<Grains.Metrics.SiloMetrics>();
        var (served, revocations, fills) = (metrics.Totals.DirectRequestsServed, channel.RevocationsReceived, CallsOn(array.Region, nameof(IPageGrain.Fill)));

        await written.SetAsync(2, 22);
        Assert.Equal(22, await array.GetAsync(2));

        Assert.True(channel.RevocationsReceived > revocations, "the write's revocation came over the connection to the page's silo");
        Assert.True(metrics.Totals.DirectRequestsServed > served, "the fill went over the connection to the page's silo");
        Assert.Equal(fills, CallsOn(array.Region, nameof(IPageGrain.Fill)));
    }

    /// <summary>Reads the page until the client sends its requests for it to the gateway's silo's connection, or to another.</summary>
    private static async Task RoutedAsync(SharedArray<long> array, DirectChannel channel, long page, bool toGateway)
    {
        for (var waited = 0; channel.For(page) == channel.Current != toGateway; waited += 50)
        {
            Assert.True(waited < 15_000, $"Requests for page {page} did not go to {(toGateway ? "the gateway's silo" : "its own silo")} within 15 s.");
            await array.GetAsync(1);
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Pages_on_either_silo_are_served_and_what_one_client_writes_another_reads()
    {
        await using var client = new DsmClient(fixture.Cluster.Client);
        var channel = await ConnectedChannels.OfAsync(client);
        await using var plain = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { DirectChannel = false });
        var array = await client.AllocateAsync<int>(UniqueNames.For("direct-both"), 1024 * 32, Consistency.Uncached);
        var other = await plain.OpenAsync<int>(array.Name);
        var served = channel.Served;

        for (var page = 0; page < 32; page++) await array.SetAsync(page * 1024 + page, page + 1);
        for (var page = 0; page < 32; page++) Assert.Equal(page + 1, await other.GetAsync(page * 1024 + page));
        for (var page = 0; page < 32; page++) await other.SetAsync(page * 1024 + page, -page);
        for (var page = 0; page < 32; page++) Assert.Equal(-page, await array.GetAsync(page * 1024 + page));

        Assert.Equal(served + 64, channel.Served);
    }

    [Fact]
    public async Task Gets_and_sets_take_the_channel_however_many_wait_there()
    {
        await using var client = new DsmClient(fixture.Cluster.Client);
        var channel = await ConnectedChannels.OfAsync(client);
        var array = await UncachedPageAsync(client, channel, "direct-many", onChannelsSilo: true, index: 0, value: 1L);
        var (served, reads) = (channel.Served, CallsOn(array.Region, nameof(IPageGrain.ReadElement)));

        var got = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => array.GetAsync(i % 2).AsTask()));

        Assert.Equal(Enumerable.Range(0, 64).Select(i => i % 2 == 0 ? 1L : 0L), got);
        Assert.Equal(served + 64, channel.Served);
        Assert.Equal(reads, CallsOn(array.Region, nameof(IPageGrain.ReadElement)));

        // Slow storage keeps the first sets under way while the others begin: all of them still take the channel.
        (served, var writes) = (channel.Served, CallsOn(array.Region, nameof(IPageGrain.WriteElement)));
        ClusterFixture.PageWrites.Delay = TimeSpan.FromMilliseconds(300);
        try
        {
            await Task.WhenAll(Enumerable.Range(1, 16).Select(i => array.SetAsync(i, i * 11)));
        }
        finally
        {
            ClusterFixture.PageWrites.Delay = TimeSpan.Zero;
        }
        Assert.Equal(served + 16, channel.Served);
        Assert.Equal(writes, CallsOn(array.Region, nameof(IPageGrain.WriteElement)));
        var contents = new long[17];
        await array.ReadAsync(0, contents);
        Assert.Equal(Enumerable.Range(0, 17).Select(i => i == 0 ? 1L : i * 11L), contents);
    }

    [Fact]
    public async Task Gets_that_arrive_after_the_silo_last_learned_the_region_is_live_are_still_read_on_the_silo()
    {
        await using var client = new DsmClient(fixture.Cluster.Client);
        var channel = await ConnectedChannels.OfAsync(client);
        var array = await UncachedPageAsync(client, channel, "direct-stale-region", onChannelsSilo: true, index: 1, value: 5L);
        // The silo's answer that the region is live (a 100 ms lease in the test cluster) runs out unused.
        await Task.Delay(TimeSpan.FromMilliseconds(400));
        var (served, reads) = (channel.Served, CallsOn(array.Region, nameof(IPageGrain.ReadElement)));

        var got = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => array.GetAsync(1).AsTask()));

        Assert.All(got, value => Assert.Equal(5, value));
        Assert.Equal(served + 32, channel.Served);
        Assert.Equal(reads, CallsOn(array.Region, nameof(IPageGrain.ReadElement)));
    }

    [Fact]
    public async Task A_set_held_up_by_slow_storage_holds_back_no_other_request_of_its_connection()
    {
        await using var client = new DsmClient(fixture.Cluster.Client);
        var channel = await ConnectedChannels.OfAsync(client);
        var array = await client.AllocateAsync<long>(UniqueNames.For("direct-slow-set"), 1024, Consistency.Uncached);
        await SeedAsync(array, 0, 1L);
        await SeedAsync(array, 512, 2L);
        var here = SiloOf(channel, connected: true);
        await MoveAsync(array.Region.FirstPage, here);
        await MoveAsync(array.Region.FirstPage + 1, here);
        await ReadableHereAsync(array);

        // Both sides cork their sends while requests are under way: neither may keep an answer for the slow set's end.
        ClusterFixture.PageWrites.Delay = TimeSpan.FromSeconds(3);
        Task slow;
        try
        {
            slow = array.SetAsync(1, 11);
            var served = channel.Served;
            var gets = Task.WhenAll(array.GetAsync(512).AsTask(), array.GetAsync(0).AsTask());

            Assert.Same(gets, await Task.WhenAny(gets, slow).WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.Equal(new[] { 2L, 1L }, await gets);
            Assert.Equal(served + 2, channel.Served);
            Assert.False(slow.IsCompleted);
        }
        finally
        {
            ClusterFixture.PageWrites.Delay = TimeSpan.Zero;
        }
        await slow;
        Assert.Equal(11, await array.GetAsync(1));
    }

    [Fact]
    public async Task A_page_on_another_silo_is_reached_through_the_call_the_channels_silo_makes_until_the_client_learns_its_silo()
    {
        await using var client = new DsmClient(fixture.Cluster.Client);
        var channel = await ConnectedChannels.OfAsync(client);
        var array = await UncachedPageAsync(client, channel, "direct-remote", onChannelsSilo: false, index: 0, value: 1L);
        var page = array.Region.FirstPage;
        var there = SiloOf(channel, connected: false);
        var calls = CallsOn(array.Region, nameof(IPageGrain.ReadElement), nameof(IPageGrain.WriteElement));
        var served = channel.Served;

        await array.SetAsync(3, 333);
        Assert.Equal(calls + 1, CallsOn(array.Region, nameof(IPageGrain.ReadElement), nameof(IPageGrain.WriteElement)));
        // By now the client may have learned the page's silo (it asks in the background) and send it there.
        Assert.Equal(333, await array.GetAsync(3));

        Assert.Equal(served + 2, channel.Served);
        Assert.InRange(CallsOn(array.Region, nameof(IPageGrain.ReadElement), nameof(IPageGrain.WriteElement)), calls + 1, calls + 2);
        Assert.NotNull(ActivePages.Of(there).Find(page));
    }

    [Fact]
    public async Task A_page_on_the_channels_silo_revokes_the_clients_cached_copy_over_the_channel()
    {
        await using var holder = new DsmClient(fixture.Cluster.Client);
        var channel = await ConnectedChannels.OfAsync(holder);
        await RevokedOverChannelAsync(holder, channel, "direct-revoke");
    }

    [Fact]
    public async Task A_client_whose_connection_broke_gets_its_revocations_over_the_connection_that_replaced_it()
    {
        await using var holder = new DsmClient(fixture.Cluster.Client);
        var channel = await ConnectedChannels.OfAsync(holder);
        await RevokedOverChannelAsync(holder, channel, "direct-revoke-reconnected", beforeCaching: async () =>
        {
            var broken = channel.Connection!;
            broken.Dispose();
            await ConnectedChannels.OfAsync(holder);
            Assert.NotSame(broken, channel.Connection);
        });
    }

    [Fact]
    public async Task A_freed_region_is_refused_with_the_calls_own_error_and_nothing_is_written()
    {
        await using var client = new DsmClient(fixture.Cluster.Client);
        var channel = await ConnectedChannels.OfAsync(client);
        var array = await client.AllocateAsync<long>(UniqueNames.For("direct-freed"), 100, Consistency.Uncached);
        await array.SetAsync(5, 55);
        var served = channel.Served;
        await client.FreeAsync(array.Name);

        var set = await Assert.ThrowsAsync<RegionFreedException>(() => array.SetAsync(5, 66));
        Assert.Contains(array.Name, set.Message);
        var get = await Assert.ThrowsAsync<RegionFreedException>(() => array.GetAsync(5).AsTask());
        Assert.Contains(array.Name, get.Message);
        Assert.Equal(served, channel.Served);
    }

    [Fact]
    public async Task When_the_connection_breaks_calls_go_through_Orleans_and_the_channel_comes_back()
    {
        await using var client = new DsmClient(fixture.Cluster.Client);
        var channel = await ConnectedChannels.OfAsync(client);
        var array = await client.AllocateAsync<long>(UniqueNames.For("direct-broken"), 100, Consistency.Uncached);
        var broken = channel.Connection!;
        broken.Dispose();
        Assert.False(broken.IsOpen);
        var calls = CallsOn(array.Region, nameof(IPageGrain.WriteElement), nameof(IPageGrain.ReadElement));

        await array.SetAsync(9, 99);
        Assert.Equal(99, await array.GetAsync(9));
        Assert.Equal(calls + 2, CallsOn(array.Region, nameof(IPageGrain.WriteElement), nameof(IPageGrain.ReadElement)));

        // A new connection opens a few seconds later and serves again.
        await ConnectedChannels.OfAsync(client);
        Assert.NotSame(broken, channel.Connection);
        var served = channel.Served;
        Assert.Equal(99, await array.GetAsync(9));
        Assert.Equal(served + 1, channel.Served);
    }

    [Fact]
    public async Task A_set_in_flight_when_the_connection_breaks_is_sent_again_as_a_retry_and_applied_once()
    {
        await using var client = new DsmClient(fixture.Cluster.Client);
        var channel = await ConnectedChannels.OfAsync(client);
        var array = await client.AllocateAsync<long>(UniqueNames.For("direct-in-flight"), 100, Consistency.Uncached);
        await array.SetAsync(1, 10);
        var connection = channel.Connection!;
        var page = fixture.Cluster.Client.GetGrain<IPageGrain>(array.Region.FirstPage);
        var version = (await page.GetState()).Version;

        // The set goes out on the channel, and the connection breaks before its reply can be read.
        var set = array.SetAsync(1, 11);
        connection.Dispose();
        await set;

        Assert.Equal(11, await array.GetAsync(1));
        // Whether the channel's attempt applied or not, the retry under the same id made it one write, not two.
        Assert.Equal(version + 1, (await page.GetState()).Version);
    }

    [Fact]
    public async Task Atomics_of_a_page_on_the_channels_silo_are_applied_without_a_grain_call()
    {
        await using var client = new DsmClient(fixture.Cluster.Client);
        var channel = await ConnectedChannels.OfAsync(client);
        var longs = await client.AllocateAsync<long>(UniqueNames.For("direct-atomics"), 512, Consistency.Uncached);
        var doubles = await client.AllocateAsync<double>(UniqueNames.For("direct-atomics-fp"), 512, Consistency.Uncached);
        await SeedAsync(longs, 0, 1L);
        await SeedAsync(doubles, 1, 1.5);
        var here = SiloOf(channel, connected: true);
        await MoveAsync(longs.Region.FirstPage, here);
        await MoveAsync(doubles.Region.FirstPage, here);
        await ReadableHereAsync(longs);
        var atomics = new[] { nameof(IPageGrain.Add), nameof(IPageGrain.Exchange), nameof(IPageGrain.CompareExchange) };
        var (calls, served) = (CallsOn(longs.Region, atomics) + CallsOn(doubles.Region, atomics), channel.Served);

        Assert.Equal(41, await longs.AddAsync(0, 40));
        Assert.Equal(-1, await longs.AddAsync(0, -42));
        Assert.Equal(4.0, await doubles.AddAsync(1, 2.5));
        Assert.Equal(-1, await longs.ExchangeAsync(0, 7));
        Assert.Equal(7, await longs.CompareExchangeAsync(0, 8, comparand: 7));
        Assert.Equal(8, await longs.CompareExchangeAsync(0, 9, comparand: 7));

        Assert.Equal(served + 6, channel.Served);
        Assert.Equal(calls, CallsOn(longs.Region, atomics) + CallsOn(doubles.Region, atomics));
        // The pages hold what they left: 8 (the failed compare-exchange changed nothing) and 4.0.
        await using var plain = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { DirectChannel = false });
        Assert.Equal(8L, await (await plain.OpenAsync<long>(longs.Name)).GetAsync(0));
        Assert.Equal(4.0, await (await plain.OpenAsync<double>(doubles.Name)).GetAsync(1));
    }

    [Fact]
    public async Task Atomics_of_a_page_on_another_silo_are_reached_through_the_call_the_channels_silo_makes_until_the_client_learns_its_silo()
    {
        await using var client = new DsmClient(fixture.Cluster.Client);
        var channel = await ConnectedChannels.OfAsync(client);
        var array = await UncachedPageAsync(client, channel, "direct-atomics-remote", onChannelsSilo: false, index: 0, value: 1);
        var there = SiloOf(channel, connected: false);
        var atomics = new[] { nameof(IPageGrain.Add), nameof(IPageGrain.CompareExchange) };
        var (calls, served) = (CallsOn(array.Region, atomics), channel.Served);

        Assert.Equal(6, await array.AddAsync(0, 5));
        Assert.Equal(calls + 1, CallsOn(array.Region, atomics));
        // By now the client may have learned the page's silo (it asks in the background) and send it there.
        Assert.Equal(6, await array.CompareExchangeAsync(0, 60, comparand: 6));

        Assert.Equal(served + 2, channel.Served);
        Assert.InRange(CallsOn(array.Region, atomics), calls + 1, calls + 2);
        Assert.Equal(60, await array.GetAsync(0));
        Assert.NotNull(ActivePages.Of(there).Find(array.Region.FirstPage));
    }

    [Fact]
    public async Task An_atomic_in_flight_when_the_connection_breaks_is_sent_again_as_a_retry_and_applied_once()
    {
        await using var client = new DsmClient(fixture.Cluster.Client);
        var channel = await ConnectedChannels.OfAsync(client);
        var array = await client.AllocateAsync<long>(UniqueNames.For("direct-atomic-in-flight"), 100, Consistency.Uncached);
        await array.SetAsync(1, 10);
        var page = fixture.Cluster.Client.GetGrain<IPageGrain>(array.Region.FirstPage);
        var version = (await page.GetState()).Version;

        // The add goes out on the channel, and the connection breaks before its reply can be read: applied twice, it
        // would leave 20 and answer 20 or 15.
        var add = array.AddAsync(1, 5);
        channel.Connection!.Dispose();

        Assert.Equal(15, await add);
        Assert.Equal(15, await array.GetAsync(1));
        Assert.Equal(version + 1, (await page.GetState()).Version);
    }

    [Fact]
    public async Task An_atomic_over_the_channel_revokes_other_clients_copies_and_keeps_the_writers_own_up_to_date()
    {
        await using var writer = new DsmClient(fixture.Cluster.Client);
        var channel = await ConnectedChannels.OfAsync(writer);
        await using var holder = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { DirectChannel = false });
        var array = await writer.AllocateAsync<long>(UniqueNames.For("direct-atomic-strict"), 512);
        var cached = await holder.OpenAsync<long>(array.Name);
        await array.SetAsync(3, 30);
        // Both clients cache the page.
        Assert.Equal((30L, 30L), (await array.GetAsync(3), await cached.GetAsync(3)));
        var served = channel.Served;

        Assert.Equal(30, await array.CompareExchangeAsync(3, 31, comparand: 30));
        Assert.Equal(41, await array.AddAsync(3, 10));

        Assert.Equal(served + 2, channel.Served);
        Assert.Equal(41, await cached.GetAsync(3));
        // The writer's copy took its own atomics' changes at the versions the replies named: still a hit, and current.
        var hits = writer.Cache!.Metrics.Hits;
        Assert.Equal(41, await array.GetAsync(3));
        Assert.Equal(hits + 1, writer.Cache.Metrics.Hits);
    }

    [Fact]
    public async Task Writes_under_a_lock_go_as_calls_which_the_page_refuses_once_the_hold_has_ended()
    {
        await using var client = new DsmClient(fixture.Cluster.Client);
        var channel = await ConnectedChannels.OfAsync(client);
        await using var other = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { DirectChannel = false });
        var array = await client.AllocateAsync<long>(UniqueNames.For("direct-fenced"), 512);
        var name = UniqueNames.For("direct-fence");
        var stale = await client.Lock(name, TimeSpan.FromMilliseconds(1500)).AcquireAsync();
        var fenced = array.Fenced(stale);
        var served = channel.Served;

        // The channel carries no fence: every write under the hold is a call, which the page checks against the lock.
        await fenced.SetAsync(0, 1);
        Assert.Equal(3, await fenced.AddAsync(1, 3));
        Assert.Equal(0, await fenced.ExchangeAsync(2, 4));
        Assert.Equal(0, await fenced.CompareExchangeAsync(3, 5, comparand: 0));
        Assert.Equal(served, channel.Served);

        await stale.StopRenewingAsync();
        await using var next = await other.Lock(name, TimeSpan.FromSeconds(10)).TryAcquireAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(next);
        await Assert.ThrowsAsync<LockLostException>(() => fenced.SetAsync(0, 9));
        await Assert.ThrowsAsync<LockLostException>(() => fenced.AddAsync(1, 9));
        await Assert.ThrowsAsync<LockLostException>(() => fenced.ExchangeAsync(2, 9));
        await Assert.ThrowsAsync<LockLostException>(() => fenced.CompareExchangeAsync(3, 9, comparand: 5));
        Assert.Equal(served, channel.Served);
        var contents = new long[4];
        await array.ReadAsync(0, contents);
        Assert.Equal(new long[] { 1, 3, 4, 5 }, contents);
        await stale.DisposeAsync();
    }

    [Fact]
    public async Task Fills_of_pages_on_the_channels_silo_take_the_channel_once_a_fill_call_has_named_the_clients_cache()
    {
        await using var holder = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { PrefetchPages = 0 });
        var channel = await ConnectedChannels.OfAsync(holder);
        await using var writer = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { DirectChannel = false });
        var array = await writer.AllocateAsync<long>(UniqueNames.For("direct-fill"), 3 * 512);
        for (var p = 0; p < 3; p++) await array.SetAsync(p * 512, 10 + p);
        var here = SiloOf(channel, connected: true);
        for (var p = 0; p < 3; p++) await MoveAsync(array.Region.FirstPage + p, here);
        var cached = await holder.OpenAsync<long>(array.Name);
        var (fills, served) = (CallsOn(array.Region, nameof(IPageGrain.Fill)), channel.Served);

        // The silo does not know the client's cache yet: the first fill is refused on the channel, and the call names it.
        Assert.Equal(10, await cached.GetAsync(0));
        Assert.Equal((fills + 1, served), (CallsOn(array.Region, nameof(IPageGrain.Fill)), channel.Served));

        Assert.Equal(11, await cached.GetAsync(512));
        Assert.Equal(12, await cached.GetAsync(1024));
        Assert.Equal((fills + 1, served + 2), (CallsOn(array.Region, nameof(IPageGrain.Fill)), channel.Served));
        var hits = holder.Cache!.Metrics.Hits;
        Assert.Equal(11, await cached.GetAsync(512));
        Assert.Equal(hits + 1, holder.Cache.Metrics.Hits);
        // The page recorded the holder: another client's write revokes the copy, over the channel, before it is done.
        var revocations = channel.RevocationsReceived;
        await array.SetAsync(512, 99);
        Assert.True(channel.RevocationsReceived > revocations, "the write should have revoked the copy filled over the channel");
        Assert.Equal(99, await cached.GetAsync(512));
    }

    [Fact]
    public async Task A_cache_told_to_resume_fills_on_the_receiving_thread_resumes_its_channel_fills_there_as_the_pager_does()
    {
        await using var holder = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { PrefetchPages = 0, ResumeFillsOnReceivingThread = true });
        var channel = await ConnectedChannels.OfAsync(holder);
        await using var writer = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { DirectChannel = false });
        const int Pages = 8;
        var array = await writer.AllocateAsync<long>(UniqueNames.For("direct-fill-resumed"), Pages * 512);
        var here = SiloOf(channel, connected: true);
        for (var p = 0; p < Pages; p++)
        {
            await array.SetAsync(p * 512, 30 + p);
            await MoveAsync(array.Region.FirstPage + p, here);
        }
        var (first, epoch) = (array.Region.FirstPage, array.Region.Epoch);
        var cache = holder.Cache!;
        // The first fill is a call, which names the client's cache to the silo; the others take the channel.
        await cache.FillAsync(first, epoch, CancellationToken.None);
        var served = channel.Served;

        var resumed = new List<(bool OnPool, string? Name)>();
        for (var p = 1; p < Pages; p++)
        {
            var fill = cache.FillAsync(first + p, epoch, CancellationToken.None);
            var where = fill.ContinueWith(_ => (Thread.CurrentThread.IsThreadPoolThread, Thread.CurrentThread.Name), TaskContinuationOptions.ExecuteSynchronously);
            // A continuation attached after the fill ended runs here, and shows nothing: such a fill is not counted.
            if (fill.IsCompleted) continue;
            resumed.Add(await where.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal(30 + p, BitConverter.ToInt64((await fill).ServedBytes()!));
        }

        Assert.Equal(served + Pages - 1, channel.Served);
        Assert.NotEmpty(resumed);
        Assert.All(resumed, thread => Assert.False(thread.OnPool));
        Assert.All(resumed, thread => Assert.StartsWith("direct channel to ", thread.Name));
    }

    [Fact]
    public async Task A_fill_of_a_page_on_another_silo_is_reached_through_the_fill_call_the_channels_silo_makes()
    {
        await using var holder = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { PrefetchPages = 0 });
        var channel = await ConnectedChannels.OfAsync(holder);
        await using var writer = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { DirectChannel = false });
        var array = await writer.AllocateAsync<long>(UniqueNames.For("direct-fill-remote"), 2 * 512);
        await array.SetAsync(0, 20);
        await array.SetAsync(512, 21);
        await MoveAsync(array.Region.FirstPage, SiloOf(channel, connected: true));
        var there = SiloOf(channel, connected: false);
        await MoveAsync(array.Region.FirstPage + 1, there);
        var cached = await holder.OpenAsync<long>(array.Name);
        Assert.Equal(20, await cached.GetAsync(0));
        var (fills, served) = (CallsOn(array.Region, nameof(IPageGrain.Fill)), channel.Served);

        Assert.Equal(21, await cached.GetAsync(512));

        Assert.Equal((fills + 1, served + 1), (CallsOn(array.Region, nameof(IPageGrain.Fill)), channel.Served));
        Assert.NotNull(ActivePages.Of(there).Find(array.Region.FirstPage + 1));
        var hits = holder.Cache!.Metrics.Hits;
        Assert.Equal(21, await cached.GetAsync(512));
        Assert.Equal(hits + 1, holder.Cache.Metrics.Hits);
        // The other silo revokes the copy by calling the cache's observer, which the channel's silo passed on.
        await array.SetAsync(512, 5);
        Assert.Equal(5, await cached.GetAsync(512));
    }

    [Fact]
    public async Task A_fill_of_a_freed_region_is_refused_on_the_channel_and_the_call_gives_its_error()
    {
        await using var holder = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { PrefetchPages = 0 });
        var channel = await ConnectedChannels.OfAsync(holder);
        await using var owner = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { DirectChannel = false });
        var array = await owner.AllocateAsync<long>(UniqueNames.For("direct-fill-freed"), 2 * 512);
        await array.SetAsync(512, 7);
        var here = SiloOf(channel, connected: true);
        for (var p = 0; p < 2; p++) await MoveAsync(array.Region.FirstPage + p, here);
        var cached = await holder.OpenAsync<long>(array.Name);
        Assert.Equal(0, await cached.GetAsync(0));
        await owner.FreeAsync(array.Name);
        var (served, entries) = (channel.Served, holder.Cache!.Count);

        var error = await Assert.ThrowsAsync<RegionFreedException>(() => cached.GetAsync(512).AsTask());

        Assert.Contains(array.Name, error.Message);
        Assert.Equal((served, entries), (channel.Served, holder.Cache.Count));
    }

    [Fact]
    public async Task A_fill_on_the_pages_turn_gives_way_to_a_free_that_is_under_way()
    {
        await using var client = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { DirectChannel = false });
        var array = await client.AllocateAsync<long>(UniqueNames.For("direct-fill-release"), 512);
        await array.SetAsync(0, 1);
        var (page, epoch) = (array.Region.FirstPage, array.Region.Epoch);
        var grain = ActivePages.Find(fixture.Cluster, page) ?? throw new InvalidOperationException("The page is not active.");
        ClusterFixture.PageWrites.Delay = TimeSpan.FromSeconds(2);
        try
        {
            // A write waits on slow storage, and the free waits for it: the free is under way while the fill comes.
            var set = array.SetAsync(1, 2);
            await Task.Delay(200);
            var release = fixture.Cluster.Client.GetGrain<IPageGrain>(page).Release(epoch);
            await Task.Delay(200);
            Assert.False(release.IsCompleted, "the free should still be waiting for the write");

            var fill = await grain.TryFillHere(epoch, client.Cache!.Session, client.Cache.Holder).WaitAsync(TimeSpan.FromSeconds(10));

            Assert.Null(fill);
            await set.WaitAsync(TimeSpan.FromSeconds(10));
            await release.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(0, (await grain.GetState()).CacheHolders);
        }
        finally
        {
            ClusterFixture.PageWrites.Delay = TimeSpan.Zero;
        }
    }

    [Fact]
    public async Task Clients_of_one_Orleans_client_share_one_connection_and_each_writes_under_its_own_session()
    {
        await using var first = new DsmClient(fixture.Cluster.Client);
        await using var second = new DsmClient(fixture.Cluster.Client);
        var (one, two) = (await ConnectedChannels.OfAsync(first), await ConnectedChannels.OfAsync(second));
        Assert.Same(one.Connection, two.Connection);
        Assert.NotEqual(one.Number, two.Number);
        var array = await first.AllocateAsync<long>(UniqueNames.For("direct-shared"), 512, Consistency.Uncached);
        var other = await second.OpenAsync<long>(array.Name);
        var (servedOne, servedTwo) = (one.Served, two.Served);

        // Each client's sets count 1, 2, 3... under its own session: made under one session, the second client's
        // would be taken for retries of the first's, and not applied.
        for (var i = 0; i < 8; i++)
        {
            await array.SetAsync(i, 100 + i);
            await other.SetAsync(256 + i, 200 + i);
        }

        Assert.Equal((servedOne + 8, servedTwo + 8), (one.Served, two.Served));
        var contents = new long[512];
        await (await fixture.Client.OpenAsync<long>(array.Name)).ReadAsync(0, contents);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => 100L + i), contents[..8]);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => 200L + i), contents[256..264]);
    }

    [Fact]
    public async Task A_client_joining_a_link_with_an_open_connection_keeps_that_connection_and_gets_revocations_over_it()
    {
        await using var first = new DsmClient(fixture.Cluster.Client);
        var connection = (await ConnectedChannels.OfAsync(first)).Connection;
        // Past the wait between attempts to connect, when a client seeking a connection could start another.
        await Task.Delay(TimeSpan.FromSeconds(5.5));
        await using var second = new DsmClient(fixture.Cluster.Client);
        var channel = await ConnectedChannels.OfAsync(second);
        await Task.Delay(500);
        Assert.Same(connection, channel.Connection);
        Assert.True(connection!.IsOpen);
        await RevokedOverChannelAsync(second, channel, "direct-second-member");
    }

    [Fact]
    public async Task Sets_of_two_clients_in_flight_when_their_shared_connection_breaks_are_each_applied_once()
    {
        await using var first = new DsmClient(fixture.Cluster.Client);
        await using var second = new DsmClient(fixture.Cluster.Client);
        var (one, two) = (await ConnectedChannels.OfAsync(first), await ConnectedChannels.OfAsync(second));
        var array = await first.AllocateAsync<long>(UniqueNames.For("direct-shared-break"), 100, Consistency.Uncached);
        var other = await second.OpenAsync<long>(array.Name);
        await array.SetAsync(1, 10);
        await other.SetAsync(2, 20);
        var page = fixture.Cluster.Client.GetGrain<IPageGrain>(array.Region.FirstPage);
        var version = (await page.GetState()).Version;
        var connection = one.Connection!;

        var sets = Task.WhenAll(array.SetAsync(1, 11), other.SetAsync(2, 22));
        connection.Dispose();
        await sets;

        Assert.Equal((11L, 22L), (await array.GetAsync(1), await other.GetAsync(2)));
        Assert.Equal(version + 2, (await page.GetState()).Version);
        // Both come back on one new connection.
        await ConnectedChannels.OfAsync(first);
        await ConnectedChannels.OfAsync(second);
        Assert.NotSame(connection, one.Connection);
        Assert.Same(one.Connection, two.Connection);
    }

    [Fact]
    public async Task Each_client_of_a_shared_connection_receives_the_revocations_of_its_own_cache()
    {
        await using var first = new DsmClient(fixture.Cluster.Client);
        await using var second = new DsmClient(fixture.Cluster.Client);
        var (one, two) = (await ConnectedChannels.OfAsync(first), await ConnectedChannels.OfAsync(second));
        await using var writer = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { DirectChannel = false });
        var cachedByFirst = await first.AllocateAsync<long>(UniqueNames.For("direct-shared-revoke"), 1024);
        var cachedBySecond = await second.OpenAsync<long>(cachedByFirst.Name);
        var written = await writer.OpenAsync<long>(cachedByFirst.Name);
        await written.SetAsync(0, 1);
        await written.SetAsync(512, 2);
        var here = SiloOf(one, connected: true);
        await MoveAsync(cachedByFirst.Region.FirstPage, here);
        await MoveAsync(cachedByFirst.Region.FirstPage + 1, here);
        // The first client caches the first page only, the second the second only.
        Assert.Equal(1, await cachedByFirst.GetAsync(0));
        Assert.Equal(2, await cachedBySecond.GetAsync(512));
        var (toOne, toTwo) = (one.RevocationsReceived, two.RevocationsReceived);

        await written.SetAsync(0, 3);
        Assert.True(one.RevocationsReceived > toOne, "the first client's copy should have been revoked over the channel");
        Assert.Equal(toTwo, two.RevocationsReceived);
        (toOne, toTwo) = (one.RevocationsReceived, two.RevocationsReceived);
        await written.SetAsync(512, 4);
        Assert.True(two.RevocationsReceived > toTwo, "the second client's copy should have been revoked over the channel");
        Assert.Equal(toOne, one.RevocationsReceived);

        Assert.Equal((3L, 4L), (await cachedByFirst.GetAsync(0), await cachedBySecond.GetAsync(512)));
    }

    [Fact]
    public async Task A_client_that_leaves_a_shared_connection_leaves_the_others_served()
    {
        var first = new DsmClient(fixture.Cluster.Client);
        await using var second = new DsmClient(fixture.Cluster.Client);
        await ConnectedChannels.OfAsync(first);
        var two = await ConnectedChannels.OfAsync(second);
        var connection = two.Connection!;
        var array = await second.AllocateAsync<long>(UniqueNames.For("direct-shared-leave"), 100, Consistency.Uncached);

        await first.DisposeAsync();

        Assert.Same(connection, two.Current);
        var served = two.Served;
        await array.SetAsync(3, 33);
        Assert.Equal(33, await array.GetAsync(3));
        Assert.Equal(served + 2, two.Served);
    }

    [Fact]
    public async Task The_last_member_to_leave_a_link_closes_its_connection_and_a_later_one_opens_another()
    {
        // A grain factory no other test's clients use, so this link has these members alone (the test cluster's
        // client is shared by every test of the collection, and some keep clients to the end).
        var grains = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IGrainFactory>();
        var first = new DirectChannel(grains, Guid.NewGuid(), new DirectTimeouts(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5)), null);
        var second = new DirectChannel(grains, Guid.NewGuid(), new DirectTimeouts(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5)), null);
        await ConnectedChannels.OpenAsync(first);
        var connection = first.Connection!;
        Assert.Same(connection, second.Current);

        first.Dispose();
        Assert.True(connection.IsOpen);
        second.Dispose();
        Assert.False(connection.IsOpen);

        using var third = new DirectChannel(grains, Guid.NewGuid(), new DirectTimeouts(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5)), null);
        await ConnectedChannels.OpenAsync(third);
        Assert.NotSame(connection, third.Connection);
    }

    [Fact]
    public async Task A_link_gives_each_number_once_and_the_client_after_its_last_number_starts_a_link_of_its_own()
    {
        // A grain factory no other test's clients use; no channel here asks for a connection.
        var grains = fixture.Cluster.Silos[^1].ServiceProvider.GetRequiredService<IGrainFactory>();
        var members = Enumerable.Range(0, ushort.MaxValue + 1)
            .Select(_ => new DirectChannel(grains, Guid.NewGuid(), new DirectTimeouts(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5)), null)).ToList();
        try
        {
            Assert.Equal(Enumerable.Range(0, ushort.MaxValue + 1).Select(n => (ushort)n), members.Select(member => member.Number));
            // A number freed by a leave is not given again: it could still be named by revocations in flight.
            members[7].Dispose();
            members.Add(new DirectChannel(grains, Guid.NewGuid(), new DirectTimeouts(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5)), null));
            Assert.Equal(0, members[^1].Number);
            members.Add(new DirectChannel(grains, Guid.NewGuid(), new DirectTimeouts(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5)), null));
            Assert.Equal(1, members[^1].Number);
            // On a link of their own: their connection is not the full link's, which never sought one.
            await ConnectedChannels.OpenAsync(members[^1]);
            Assert.Null(members[0].Connection);
        }
        finally
        {
            foreach (var member in members) member.Dispose();
        }
    }

    /// <summary>The silo <paramref name="channel"/> is connected to, or (<paramref name="connected"/> false) the other one.</summary>
    private Orleans.TestingHost.InProcessSiloHandle SiloOf(DirectChannel channel, bool connected) =>
        fixture.Cluster.Silos.Single(silo => silo.ServiceProvider.GetRequiredService<DirectListener>().Endpoint == channel.Connection!.Endpoint == connected);

    /// <summary>How many calls of <paramref name="methods"/> the pages of <paramref name="region"/> received (other tests' clients may still call theirs).</summary>
    private static long CallsOn(RegionDescriptor region, params string[] methods) =>
        ClusterFixture.PageCallsOn(Enumerable.Range(0, checked((int)region.PageCount)).Select(page => region.FirstPage + page), methods);

    /// <summary>
    /// A one-page Uncached array of <paramref name="client"/>'s, holding <paramref name="value"/> at
    /// <paramref name="index"/>, whose page is active on the silo of <paramref name="channel"/>'s first connection (and
    /// read there without a call) or, with <paramref name="onChannelsSilo"/> false, on the other silo. The client has
    /// sent no request for it (see <see cref="SeedAsync"/>), so its first goes to the gateway's silo.
    /// </summary>
    private async Task<SharedArray<T>> UncachedPageAsync<T>(DsmClient client, DirectChannel channel, string name, bool onChannelsSilo, long index, T value)
        where T : unmanaged
    {
        var array = await client.AllocateAsync<T>(UniqueNames.For(name), 512, Consistency.Uncached);
        await SeedAsync(array, index, value);
        await MoveAsync(array.Region.FirstPage, SiloOf(channel, onChannelsSilo));
        if (onChannelsSilo) await ReadableHereAsync(array);
        return array;
    }

    /// <summary>
    /// Has <paramref name="holder"/> cache element 0 of a page on its channel's silo (after <paramref name="beforeCaching"/>,
    /// if given), a client without a channel write it, and checks that the copy's revocation came over the channel and
    /// the holder reads the new value. Revocations as observer calls are slower, never wrong: only the count tells.
    /// </summary>
    private async Task RevokedOverChannelAsync(DsmClient holder, DirectChannel channel, string name, Func<Task>? beforeCaching = null)
    {
        await using var writer = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { DirectChannel = false });
        var cached = await holder.AllocateAsync<long>(UniqueNames.For(name), 512);
        var written = await writer.OpenAsync<long>(cached.Name);
        await SeedAsync(cached, 0, 1L);
        await MoveAsync(cached.Region.FirstPage, SiloOf(channel, connected: true));
        if (beforeCaching is not null) await beforeCaching();
        Assert.Equal(1, await cached.GetAsync(0));
        var hits = holder.Cache!.Metrics.Hits;
        Assert.Equal(1, await cached.GetAsync(0));
        Assert.True(holder.Cache.Metrics.Hits > hits, "the second read should be served from the cache");
        var revocations = channel.RevocationsReceived;

        await written.SetAsync(0, 2);

        Assert.True(channel.RevocationsReceived > revocations, "the revocation should have come over the direct channel");
        Assert.Equal(2, await cached.GetAsync(0));
    }

    /// <summary>
    /// Writes through the fixture's client, which has no channel: the page becomes active somewhere, and the test's
    /// client, which has not sent a request for it yet, has learned nothing of where (else it may send the page's
    /// requests to the silo it learned, after the test moved the page away).
    /// </summary>
    private async Task SeedAsync<T>(SharedArray<T> array, long index, T value) where T : unmanaged =>
        await (await fixture.Client.OpenAsync<T>(array.Name)).SetAsync(index, value);

    /// <summary>Moves <paramref name="page"/>'s activation to <paramref name="silo"/>, if it is not there already.</summary>
    private async Task MoveAsync(long page, Orleans.TestingHost.InProcessSiloHandle silo)
    {
        for (var waited = 0; ActivePages.Of(silo).Find(page) is null; waited += 100)
        {
            Assert.True(waited < 15_000, $"Page {page} did not move to {silo.SiloAddress} within 15 s.");
            if (waited % 2_000 == 0)
            {
                RequestContext.Set(Orleans.Runtime.Placement.IPlacementDirector.PlacementHintKey, silo.SiloAddress);
                try
                {
                    await fixture.Cluster.Client.GetGrain<IPageGrain>(page).Cast<Orleans.Core.Internal.IGrainManagementExtension>().MigrateOnIdle();
                }
                finally
                {
                    RequestContext.Remove(Orleans.Runtime.Placement.IPlacementDirector.PlacementHintKey);
                }
            }
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Waits until a get of <paramref name="array"/>'s first page is served without a page call: a page just activated
    /// or moved, or a silo just started, may have the channel's silo make the call until its checks are answered.
    /// </summary>
    private static async Task ReadableHereAsync<T>(SharedArray<T> array) where T : unmanaged
    {
        for (var waited = 0; ; waited += 50)
        {
            var reads = CallsOn(array.Region, nameof(IPageGrain.ReadElement));
            await array.GetAsync(0);
            if (CallsOn(array.Region, nameof(IPageGrain.ReadElement)) == reads) return;
            Assert.True(waited < 15_000, "Gets of the page still made page calls after 15 s.");
            await Task.Delay(50);
        }
    }
}
