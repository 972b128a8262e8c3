using System.Diagnostics;
using Npgsql;
using Xunit.Abstractions;
using OrleansDsm.Connection;
using OrleansDsm.Tests.Processes;

namespace OrleansDsm.Tests.MultiHost;

/// <summary>
/// PostgreSQL and three silo processes, each on a host of its own (a network namespace on a private bridge), with the
/// test process as the client host: a silo killed with SIGKILL while more than 1,000 writes are in flight, every silo
/// killed and started again, and a silo cut off from the network. No acknowledged write is lost, and the clients
/// carry on after bounded retries; and caching clients' histories through the same faults stay linearizable.
/// </summary>
public sealed class MultiHostFailoverTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Elements = 64 * 512;
    private NetworkLab _lab = null!;
    private PostgresServer _postgres = null!;
    private LabHost[] _siloHosts = [];
    private readonly SiloProcess?[] _silos = new SiloProcess?[3];
    private string _database = "";

    public async Task InitializeAsync()
    {
        _lab = await NetworkLab.CreateAsync();
        var db = await _lab.AddHostAsync("db", 10);
        _siloHosts = [await _lab.AddHostAsync("s1", 11), await _lab.AddHostAsync("s2", 12), await _lab.AddHostAsync("s3", 13)];
        _postgres = await PostgresServer.StartAsync(db.Address, db.Namespace);
        _database = await _postgres.CreateDatabaseAsync("multihost");
    }

    public async Task DisposeAsync()
    {
        foreach (var silo in _silos)
            if (silo is not null) await silo.DisposeAsync();
        await _postgres.DisposeAsync();
        await _lab.DisposeAsync();
    }

    [Fact]
    public async Task Acknowledged_writes_survive_a_kill_under_load_a_full_restart_and_a_cut_host()
    {
        await Task.WhenAll(Enumerable.Range(0, 3).Select(StartSiloAsync));
        Assert.Equal(["10.200.0.11", "10.200.0.12", "10.200.0.13"], await ActiveMembersAsync("10.200.0.11", "10.200.0.12", "10.200.0.13"));

        var written = new long[Elements];
        await using (var client = await ConnectAsync())
        {
            var ledger = await client.AllocateAsync<long>("ledger", Elements, Consistency.Uncached);

            // 1,500 writes at once, each to its own element across 64 pages; silo 2 dies while they are in flight.
            var writes = Enumerable.Range(0, 1500).Select(i => (Index: i * 21L % Elements, Value: i + 1L))
                .Select(write => (write.Index, write.Value, Task: ledger.SetAsync(write.Index, write.Value))).ToArray();
            var inFlight = writes.Count(write => !write.Task.IsCompleted);
            var killedAt = Stopwatch.GetTimestamp();
            await _silos[1]!.KillAsync();
            await Task.WhenAll(writes.Select(write => write.Task));
            output.WriteLine($"kill: {inFlight} writes in flight; all 1500 acknowledged {Stopwatch.GetElapsedTime(killedAt).TotalSeconds:0.0} s after the kill");
            Assert.InRange(inFlight, 1001, 1500);
            foreach (var (index, value, _) in writes) written[index] = value;
            await AssertHoldsAsync(ledger, written);
        }

        // Every silo killed at once, then all started again: the data is where it was.
        foreach (var silo in _silos) await silo!.KillAsync();
        await Task.WhenAll(Enumerable.Range(0, 3).Select(StartSiloAsync));
        await using (var client = await ConnectAsync())
            await AssertHoldsAsync(await client.OpenAsync<long>("ledger"), written);

        // Silo 3's host loses its link: the others evict it and the clients carry on without it.
        await using (var client = await ConnectAsync())
        {
            var ledger = await client.OpenAsync<long>("ledger");
            for (var page = 0; page < 64; page++) Assert.Equal(written[page * 512L], await ledger.GetAsync(page * 512L));
            await _lab.CutAsync(_siloHosts[2]);
            var cutAt = Stopwatch.GetTimestamp();
            await Task.WhenAll(Enumerable.Range(0, 64).Select(async page =>
            {
                var index = page * 512L + 7;
                await ledger.SetAsync(index, -page - 1);
                written[index] = -page - 1;
            }));
            output.WriteLine($"cut: 64 writes, one per page, acknowledged {Stopwatch.GetElapsedTime(cutAt).TotalSeconds:0.0} s after the cut");
            await AssertHoldsAsync(ledger, written);
            Assert.Equal(["10.200.0.11", "10.200.0.12"], await ActiveMembersAsync("10.200.0.11", "10.200.0.12"));
            // Cut off from PostgreSQL too, the silo could not renew its serving lease and stopped serving its pages.
            Assert.Contains("Serving lease not renewed", _silos[2]!.Output);
        }

        // Back on the network, the cut silo finds itself declared dead and stops; started again, it rejoins as a new generation.
        var before = await GenerationsAsync("10.200.0.13");
        await _lab.MendAsync(_siloHosts[2]);
        await _silos[2]!.Exited.WaitAsync(TimeSpan.FromSeconds(60));
        await StartSiloAsync(2);
        Assert.Equal(["10.200.0.11", "10.200.0.12", "10.200.0.13"], await ActiveMembersAsync("10.200.0.11", "10.200.0.12", "10.200.0.13"));
        Assert.Single((await GenerationsAsync("10.200.0.13")).Except(before));
        await using (var client = await ConnectAsync())
            await AssertHoldsAsync(await client.OpenAsync<long>("ledger"), written);
    }

    [Fact]
    public async Task Histories_of_caching_clients_stay_linearizable_through_a_kill_a_restart_and_a_cut_host()
    {
        await Task.WhenAll(Enumerable.Range(0, 3).Select(StartSiloAsync));
        Assert.Equal(["10.200.0.11", "10.200.0.12", "10.200.0.13"], await ActiveMembersAsync("10.200.0.11", "10.200.0.12", "10.200.0.13"));

        // Once worker 0 has recorded 100 operations: silo 2 is killed and started again, then silo 3's host is cut off.
        // 300 operations a task leave the fault watcher a wide margin after line 100 even on a loaded machine (with 150
        // a fast worker once finished before the watcher saw line 100).
        var run = await Linearizability.HistoryRun.RunAsync(_database, operationsPerTask: 300, (100, async _ =>
        {
            await _silos[1]!.KillAsync();
            await Task.Delay(TimeSpan.FromSeconds(2));
            await StartSiloAsync(1);
            await _lab.CutAsync(_siloHosts[2]);
        }));

        var heldUp = run.History.Count(op => !op.Pending && op.Returned - op.Called > Stopwatch.Frequency);
        output.WriteLine($"{run.History.Count} operations, {heldUp} took over a second, {run.History.Count(op => op.Pending)} without outcome");
        Assert.True(run.ExitCodes.All(code => code == 0), run.Output);
        Assert.True(run.History.Count >= 3 * Linearizability.HistoryRun.TasksPerProcess * 150 * 9 / 10, $"{run.History.Count} operations recorded\n{run.Output}");
        var violations = run.Violations();
        Assert.True(violations is null, violations);
        Assert.Equal(["10.200.0.11", "10.200.0.12"], await ActiveMembersAsync("10.200.0.11", "10.200.0.12"));
    }

    private async Task StartSiloAsync(int index)
    {
        if (_silos[index] is { } old) await old.DisposeAsync();
        _silos[index] = await SiloProcess.StartInNamespaceAsync(_siloHosts[index].Namespace, _siloHosts[index].Address,
            "--Silo:Storage=PostgreSQL", $"--Silo:ConnectionString={_database}", "--Silo:Dashboard=false",
            "--Silo:Membership:ProbeTimeout=00:00:01", "--Silo:Membership:NumMissedProbesLimit=2");
    }

    /// <summary>A client that finds the gateways in the membership table, so it drops a silo the cluster declared dead.</summary>
    private Task<DsmClient> ConnectAsync() => DsmClient.ConnectAsync(new DsmClientOptions
    {
        MembershipConnectionString = _database,
        ConnectTimeout = TimeSpan.FromSeconds(30),
        ResponseTimeout = TimeSpan.FromSeconds(5),
        RetryBudget = TimeSpan.FromSeconds(60),
    });

    private static async Task AssertHoldsAsync(SharedArray<long> ledger, long[] written)
    {
        var read = new long[written.Length];
        await ledger.ReadAsync(0, read);
        var lost = Enumerable.Range(0, written.Length).Where(i => read[i] != written[i]).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} elements differ from what was acknowledged, first at {lost.FirstOrDefault()}");
    }

    /// <summary>
    /// The addresses of the silos the membership table shows active (Orleans' status 3), in order, once they are
    /// <paramref name="expected"/> or a minute has passed: membership takes a few probes to settle after a change.
    /// </summary>
    private async Task<List<string>> ActiveMembersAsync(params string[] expected)
    {
        var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 60;
        while (true)
        {
            var rows = await QueryAsync("SELECT address, status FROM dsm_membership");
            var active = rows.Where(row => (int)row[1] == 3).Select(row => (string)row[0]).Order().ToList();
            if (active.SequenceEqual(expected) || Stopwatch.GetTimestamp() > deadline) return active;
            await Task.Delay(500);
        }
    }

    private async Task<List<int>> GenerationsAsync(string address) =>
        [.. (await QueryAsync($"SELECT generation FROM dsm_membership WHERE address = '{address}'")).Select(row => (int)row[0])];

    private async Task<List<object[]>> QueryAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object[]>();
        while (await reader.ReadAsync())
        {
            var row = new object[reader.FieldCount];
            reader.GetValues(row);
            rows.Add(row);
        }
        return rows;
    }
}
