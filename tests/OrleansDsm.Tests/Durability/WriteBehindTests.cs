using System.Diagnostics;
using OrleansDsm.Tests.Processes;
using static OrleansDsm.Tests.Fixtures.PostgresServer;

namespace OrleansDsm.Tests.Durability;

/// <summary>
/// Write-behind (<c>Dsm:WriteBehind</c>): a write is acknowledged and visible before it is stored, and stored within
/// the interval; a crash loses at most the writes acknowledged in the window the README states; a graceful stop
/// loses nothing.
/// </summary>
public sealed class WriteBehindTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private PostgresServer _postgres = null!;

    public async Task InitializeAsync() => _postgres = await PostgresServer.StartAsync();

    public async Task DisposeAsync() => await _postgres.DisposeAsync();

    private static string[] Arguments(string database, TimeSpan writeBehind) =>
        ["--Silo:Storage=PostgreSQL", $"--Silo:ConnectionString={database}", "--Silo:Dashboard=false", $"--Dsm:WriteBehind={writeBehind}"];

    [Fact]
    public async Task A_write_is_acknowledged_and_seen_before_it_is_stored_and_stored_within_the_interval()
    {
        var interval = TimeSpan.FromSeconds(2);
        var database = await _postgres.CreateDatabaseAsync("behind");
        await using var silo = await SiloProcess.StartAsync(Arguments(database, interval));
        await using var writer = await silo.ConnectAsync();
        await using var reader = await silo.ConnectAsync();
        var array = await writer.AllocateAsync<long>("behind", 512, Consistency.Uncached);

        await array.SetAsync(3, 42);
        var acknowledged = Stopwatch.StartNew();
        var rowsAtOnce = await StoredPagesAsync(database);
        Assert.Equal(42, await (await reader.OpenAsync<long>("behind")).GetAsync(3));

        Assert.Equal(0, rowsAtOnce);
        while (await StoredPagesAsync(database) == 0)
        {
            Assert.True(acknowledged.Elapsed < interval + TimeSpan.FromSeconds(5), "the page was never stored");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task A_crash_loses_at_most_two_intervals_of_writes_and_a_graceful_stop_loses_none()
    {
        var interval = TimeSpan.FromMilliseconds(300);
        var database = await _postgres.CreateDatabaseAsync("window");
        var silo = await SiloProcess.StartAsync(Arguments(database, interval));
        var (siloPort, gatewayPort) = (silo.SiloPort, silo.GatewayPort);
        var acknowledgedAt = new List<(long Value, TimeSpan At)>();
        var clock = new Stopwatch();
        await using (var client = await silo.ConnectAsync())
        {
            var counter = await client.AllocateAsync<long>("counter", 512, Consistency.Uncached);
            clock.Start();
            for (long value = 1; clock.Elapsed < TimeSpan.FromSeconds(4); value++)
            {
                await counter.SetAsync(0, value);
                acknowledgedAt.Add((value, clock.Elapsed));
            }
            await silo.KillAsync();
        }
        var killedAt = clock.Elapsed;
        await silo.DisposeAsync();

        long survived;
        silo = await SiloProcess.StartOnPortsAsync(siloPort, gatewayPort, Arguments(database, interval));
        await using (var client = await silo.ConnectAsync())
            survived = await (await client.OpenAsync<long>("counter")).GetAsync(0);

        // The window: no write is acknowledged while the oldest unstored one is more than two intervals old, and the
        // storage write that was running at the kill may not have committed (a second of slack for it).
        var mustSurvive = acknowledgedAt.Where(write => write.At < killedAt - 2 * interval - TimeSpan.FromSeconds(1)).Max(write => write.Value);
        output.WriteLine($"{acknowledgedAt.Count} writes acknowledged; the kill lost the last {acknowledgedAt[^1].Value - survived} ({(killedAt - acknowledgedAt.First(write => write.Value == Math.Min(survived + 1, acknowledgedAt[^1].Value)).At).TotalMilliseconds:0} ms of them)");
        Assert.InRange(survived, mustSurvive, acknowledgedAt[^1].Value);

        // SIGTERM drains the silo: every acknowledged write is stored on the way out.
        long last;
        await using (var client = await silo.ConnectAsync())
        {
            var counter = await client.OpenAsync<long>("counter");
            for (last = survived + 1; last <= survived + 200; last++) await counter.SetAsync(0, last);
            last--;
        }
        Assert.Equal(0, await silo.StopAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("OrleansDsm silo stopped after", silo.Output);
        Assert.Contains("every acknowledged write is stored in PostgreSQL (database window", silo.Output);
        await silo.DisposeAsync();
        await using var restarted = await SiloProcess.StartOnPortsAsync(siloPort, gatewayPort, Arguments(database, interval));
        await using (var client = await restarted.ConnectAsync())
            Assert.Equal(last, await (await client.OpenAsync<long>("counter")).GetAsync(0));
    }

    [Fact]
    public async Task A_stop_whose_stores_storage_refuses_says_which_writes_were_lost_and_exits_with_1()
    {
        // Long enough that the write is still unstored when the silo stops.
        var interval = TimeSpan.FromSeconds(30);
        var database = await _postgres.CreateDatabaseAsync("refused");
        var silo = await SiloProcess.StartAsync(Arguments(database, interval));
        var (siloPort, gatewayPort) = (silo.SiloPort, silo.GatewayPort);
        await using (var client = await silo.ConnectAsync())
        {
            var array = await client.AllocateAsync<long>("refused", 512, Consistency.Uncached);
            await array.SetAsync(0, 1);
            Assert.Equal(0, await StoredPagesAsync(database));
            await RefusePageRowsAsync(database);
        }

        var exitCode = await silo.StopAsync(TimeSpan.FromSeconds(60));

        Assert.True(exitCode == 1, $"exit code {exitCode}:\n{silo.Output}");
        Assert.Contains("1 page lost acknowledged writes that were not yet stored (write-behind): storage refused them (last refusal: ", silo.Output);
        Assert.Contains("page rows refused by the test", silo.Output);
        await silo.DisposeAsync();
        // The line told the truth: the write is gone.
        await ExecuteAsync(database, "DROP TRIGGER refuse_pages ON dsm_pages");
        await using var restarted = await SiloProcess.StartOnPortsAsync(siloPort, gatewayPort, Arguments(database, interval));
        await using var next = await restarted.ConnectAsync();
        Assert.Equal(0, await (await next.OpenAsync<long>("refused")).GetAsync(0));
    }

    [Fact]
    public async Task A_stop_cut_short_before_pages_stored_their_writes_says_they_were_lost()
    {
        var interval = TimeSpan.FromSeconds(30);
        var database = await _postgres.CreateDatabaseAsync("cut");
        // The host gives its services 3 s to stop.
        var silo = await SiloProcess.StartAsync([.. Arguments(database, interval), "--shutdownTimeoutSeconds=3"]);
        await using (var client = await silo.ConnectAsync())
        {
            var array = await client.AllocateAsync<long>("cut", 512, Consistency.Uncached);
            await array.SetAsync(0, 1);
        }
        // The page's store waits on the locked table past the host's time.
        await using var blocker = await LockPageTableAsync(database);

        var exitCode = await silo.StopAsync(TimeSpan.FromSeconds(60));

        Assert.True(exitCode == 1, $"exit code {exitCode}:\n{silo.Output}");
        Assert.Contains("1 page lost acknowledged writes that were not yet stored (write-behind): the stop ended before they were", silo.Output);
        await silo.DisposeAsync();
    }

    [Fact]
    public async Task A_stop_cut_short_during_a_write_through_write_counts_no_loss_for_the_write_it_never_acknowledged()
    {
        var database = await _postgres.CreateDatabaseAsync("cutthrough");
        var silo = await SiloProcess.StartAsync([.. Arguments(database, TimeSpan.Zero), "--shutdownTimeoutSeconds=3"]);
        await using (var client = await DsmClient.ConnectAsync(new OrleansDsm.Connection.DsmClientOptions { Gateways = [silo.Gateway], RetryBudget = TimeSpan.Zero }))
        {
            var array = await client.AllocateAsync<long>("cutthrough", 512, Consistency.Uncached);
            await array.SetAsync(0, 1);
            await using var blocker = await LockPageTableAsync(database);
            // Write-through: this write waits for the locked table, so the page holds a change nobody was told is done.
            var unanswered = array.SetAsync(0, 2);
            await Task.Delay(500);
            Assert.False(unanswered.IsCompleted);

            var exitCode = await silo.StopAsync(TimeSpan.FromSeconds(60));

            Assert.True(exitCode == 0, $"exit code {exitCode}:\n{silo.Output}");
            Assert.Contains("every acknowledged write is stored in PostgreSQL", silo.Output);
            await Assert.ThrowsAnyAsync<Exception>(() => unanswered);
        }
        await silo.DisposeAsync();
    }

    /// <summary>A transaction that holds <c>dsm_pages</c> locked until the connection it returns is disposed: page stores wait.</summary>
    private static async Task<Npgsql.NpgsqlConnection> LockPageTableAsync(string database)
    {
        var blocker = new Npgsql.NpgsqlConnection(database);
        await blocker.OpenAsync();
        var transaction = await blocker.BeginTransactionAsync();
        await using (var lockTable = new Npgsql.NpgsqlCommand("LOCK TABLE dsm_pages IN ACCESS EXCLUSIVE MODE", blocker, transaction))
            await lockTable.ExecuteNonQueryAsync();
        return blocker;
    }

    [Fact]
    public async Task Storage_that_refuses_write_behind_stores_is_warned_of_and_counted_and_tried_again()
    {
        var interval = TimeSpan.FromMilliseconds(500);
        var database = await _postgres.CreateDatabaseAsync("retried");
        await using var silo = await SiloProcess.StartAsync([.. Arguments(database, interval), "--Silo:Dashboard=true", "--Dsm:MetricsInterval=00:00:00.200"]);
        await using var client = await silo.ConnectAsync();
        var array = await client.AllocateAsync<long>("retried", 512, Consistency.Uncached);
        await RefusePageRowsAsync(database);

        await array.SetAsync(0, 7);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!silo.Output.Contains("Page storage writes are failing: 1 failed since the last such warning"))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no warning of the refused store:\n{silo.Output}");
            await Task.Delay(100);
        }
        Assert.Contains("page rows refused by the test", silo.Output);
        using var http = new HttpClient { BaseAddress = new Uri($"http://localhost:{silo.HttpPort}") };
        while (true)
        {
            using var json = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync("/dsm/metrics.json"));
            if (json.RootElement.GetProperty("totals").GetProperty("storageWriteFailures").GetInt64() >= 1) break;
            Assert.True(DateTime.UtcNow < deadline, $"the metrics never counted the refused store: {json.RootElement}");
            await Task.Delay(100);
        }
        Assert.Equal(0, await StoredPagesAsync(database));
        // Once storage takes rows again, the page's next try stores the write it kept.
        await ExecuteAsync(database, "DROP TRIGGER refuse_pages ON dsm_pages");
        while (await StoredPagesAsync(database) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the page never stored its write once storage took rows again");
            await Task.Delay(100);
        }
        Assert.Equal(7, await array.GetAsync(0));
    }

    /// <summary>Makes PostgreSQL refuse page rows, and nothing else: membership and regions keep their tables.</summary>
    private static Task RefusePageRowsAsync(string database) => ExecuteAsync(database, """
        CREATE FUNCTION refuse_pages() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'page rows refused by the test'; END $$;
        CREATE TRIGGER refuse_pages BEFORE INSERT OR UPDATE ON dsm_pages FOR EACH ROW EXECUTE FUNCTION refuse_pages();
        """);
}
