using Npgsql;
using OrleansDsm.Connection;
using OrleansDsm.Database;
using OrleansDsm.Testing;
using OrleansDsm.Tests.Processes;
using Xunit.Abstractions;
using static OrleansDsm.Tests.Fixtures.PostgresServer;

namespace OrleansDsm.Tests.Durability;

/// <summary>
/// Silo processes on a real, private PostgreSQL: acknowledged writes outlive a silo killed with SIGKILL, the schema is
/// applied once, and a silo refuses a database it does not match.
/// </summary>
public sealed class PostgreSqlDurabilityTests(ITestOutputHelper output) : IAsyncLifetime
{
    private PostgresServer _postgres = null!;

    public async Task InitializeAsync() => _postgres = await PostgresServer.StartAsync();

    public async Task DisposeAsync() => await _postgres.DisposeAsync();

    [Fact]
    public async Task Acknowledged_writes_survive_a_killed_silo_and_come_back_with_its_restart()
    {
        var database = await _postgres.CreateDatabaseAsync("survives");
        var expected = Enumerable.Range(0, 4096).Select(i => (long)i * 7919).ToArray();
        int siloPort, gatewayPort;
        await using (var silo = await StartSiloAsync(database))
        {
            (siloPort, gatewayPort) = (silo.SiloPort, silo.GatewayPort);
            await using var client = await silo.ConnectAsync();
            var array = await client.AllocateAsync<long>("kept", expected.Length);
            await array.WriteAsync(0, expected);
            expected[5] = -5;
            await array.SetAsync(5, -5);
            expected[600] = 600 * 7919 + 11;
            await array.AddAsync(600, 11);
        } // SIGKILL: no graceful deactivation, nothing flushed on the way out

        Assert.True(await StoredPagesAsync(database) >= 8, "every written page has its row");
        await using (var restarted = await SiloProcess.StartOnPortsAsync(siloPort, gatewayPort, PostgreSqlArguments(database)))
        {
            await using var client = await restarted.ConnectAsync();
            var array = await client.OpenAsync<long>("kept");
            var read = new long[expected.Length];
            await array.ReadAsync(0, read);
            Assert.Equal(expected, read);
        }
    }

    [Theory]
    [InlineData("Batched")]
    [InlineData("AdoNet")]
    public async Task A_stored_page_costs_its_size_plus_a_small_fixed_overhead(string pageStore)
    {
        var database = await _postgres.CreateDatabaseAsync("page-cost");
        await using var silo = await StartSiloAsync(database, $"--Silo:PageStore={pageStore}");
        await using var client = await silo.ConnectAsync();
        var array = await client.AllocateAsync<byte>("costed", 4096);
        var noise = new byte[4096];
        new Random(11).NextBytes(noise); // incompressible, as PostgreSQL would otherwise shrink the row
        await array.WriteAsync(0, noise);
        for (var i = 0; i < 70; i++) await array.SetAsync(i, (byte)i); // fills the page's memory of recent requests, and forgets some

        var (payload, row) = pageStore == "Batched"
            ? (await ScalarAsync(database, "SELECT octet_length(payload) FROM dsm_pages"),
               await ScalarAsync(database, "SELECT pg_column_size(t.*) FROM dsm_pages t"))
            : (await ScalarAsync(database, "SELECT octet_length(payload) FROM dsm_grain_state WHERE grain_type LIKE '%page%'"),
               await ScalarAsync(database, "SELECT pg_column_size(t.*) FROM dsm_grain_state t WHERE grain_type LIKE '%page%'"));

        output.WriteLine($"{pageStore}: 4096-byte page: payload {payload} B, row {row} B, overhead {row - 4096} B");
        // Nearly all of it is the memory of the last 64 mutations (about 33 B each) that makes retries exactly-once.
        Assert.InRange(row - 4096, 0, 1024);
    }

    [Fact]
    public async Task A_damaged_or_truncated_stored_page_is_reported_and_never_read_as_zeros()
    {
        var database = await _postgres.CreateDatabaseAsync("damaged");
        int siloPort, gatewayPort;
        await using (var silo = await StartSiloAsync(database))
        {
            (siloPort, gatewayPort) = (silo.SiloPort, silo.GatewayPort);
            await using var client = await silo.ConnectAsync();
            var array = await client.AllocateAsync<byte>("damaged", 3 * 4096);
            await array.WriteAsync(0, Enumerable.Range(0, 3 * 4096).Select(i => (byte)(i % 251 + 1)).ToArray());
        } // SIGKILL
        Assert.Equal(3, await ScalarAsync(database, "SELECT count(*) FROM dsm_pages"));
        // One page gets a byte flipped in the middle of its bytes, another loses the second half of its record.
        await ExecuteAsync(database, """
            UPDATE dsm_pages SET payload = set_byte(payload, octet_length(payload) / 2, get_byte(payload, octet_length(payload) / 2) # 255)
            WHERE grain_id = (SELECT grain_id FROM dsm_pages ORDER BY grain_id LIMIT 1 OFFSET 0)
            """);
        await ExecuteAsync(database, """
            UPDATE dsm_pages SET payload = substring(payload FROM 1 FOR octet_length(payload) / 2)
            WHERE grain_id = (SELECT grain_id FROM dsm_pages ORDER BY grain_id LIMIT 1 OFFSET 1)
            """);

        await using var restarted = await SiloProcess.StartOnPortsAsync(siloPort, gatewayPort, PostgreSqlArguments(database));
        await using var reader = await restarted.ConnectAsync();
        var reopened = await reader.OpenAsync<byte>("damaged");
        var errors = new List<string>();
        for (var page = 0; page < 3; page++)
        {
            try
            {
                Assert.Equal((byte)(page * 4096 % 251 + 1), await reopened.GetAsync(page * 4096L));
            }
            catch (CorruptPageException error)
            {
                errors.Add(error.Message);
            }
        }

        foreach (var error in errors) output.WriteLine(error);
        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, message => message.Contains("checksum", StringComparison.Ordinal));
        Assert.Contains(errors, message => message.Contains("truncated", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_client_finds_the_gateways_in_the_membership_table()
    {
        var database = await _postgres.CreateDatabaseAsync("membership");
        await using var silo = await StartSiloAsync(database);
        Assert.Equal(1, await ScalarAsync(database,
            $"SELECT count(*) FROM dsm_membership WHERE status = 3 AND address = '127.0.0.1' AND port = {silo.SiloPort} AND proxy_port = {silo.GatewayPort}"));

        await using var client = await DsmClient.ConnectAsync(new DsmClientOptions
        {
            MembershipConnectionString = database, Gateways = [], ConnectTimeout = TimeSpan.FromSeconds(30),
        });
        var array = await client.AllocateAsync<int>("found", 10);
        await array.SetAsync(3, 33);
        Assert.Equal(33, await array.GetAsync(3));
    }

    [Fact]
    public async Task A_client_of_a_cluster_with_no_live_silo_is_told_so()
    {
        var database = await _postgres.CreateDatabaseAsync("no-silo");
        await DatabaseSchema.ApplyAsync(database);

        var refused = await Assert.ThrowsAsync<ClusterUnreachableException>(() => DsmClient.ConnectAsync(new DsmClientOptions
        {
            MembershipConnectionString = database, ConnectTimeout = TimeSpan.FromSeconds(3),
        }));
        Assert.Contains("PostgreSQL membership table", refused.Message);
    }

    [Fact]
    public async Task The_schema_is_applied_once_whatever_the_number_of_starts()
    {
        var database = await _postgres.CreateDatabaseAsync("schema");

        Assert.Equal(DatabaseSchema.Migrations.Select(m => m.Number), await DatabaseSchema.ApplyAsync(database));
        Assert.Empty(await DatabaseSchema.ApplyAsync(database));
        await DatabaseSchema.RequireCurrentAsync(database);
    }

    [Fact]
    public async Task Dsm_db_init_applies_the_schema_once_and_answers_errors_with_exit_codes()
    {
        var database = await _postgres.CreateDatabaseAsync("cli-init");

        var first = await BuiltPrograms.RunDsmAsync("db", "init", "--connection", database);
        var second = await BuiltPrograms.RunDsmAsync("db", "init", "--connection", database);
        Assert.Equal((0, $"schema at version {DatabaseSchema.Version}: applied 1, 2, 3"), (first.ExitCode, first.Stdout.Trim()));
        Assert.Equal((0, $"schema already at version {DatabaseSchema.Version}"), (second.ExitCode, second.Stdout.Trim()));
        var third = await BuiltPrograms.RunDsmAsync("db", "init", "--connection", database, "--json");
        Assert.Equal((0, $"{{\"schemaVersion\":{DatabaseSchema.Version},\"applied\":[]}}"), (third.ExitCode, third.Stdout.Trim()));
        await using (await StartSiloAsync(database, "--Silo:ApplySchema=false")) { } // the schema is complete

        var malformed = await BuiltPrograms.RunDsmAsync("db", "init", "--connection", "Colour=blue");
        var unreachable = await BuiltPrograms.RunDsmAsync("db", "init", "--connection", "Host=127.0.0.1;Port=1;Timeout=2");
        Assert.Equal(2, malformed.ExitCode);
        Assert.Contains("colour", malformed.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(3, unreachable.ExitCode);
        Assert.StartsWith("dsm: ", unreachable.Stderr);
    }

    [Fact]
    public async Task The_database_password_comes_from_the_environment_and_never_from_a_command_line()
    {
        var database = await _postgres.CreatePasswordDatabaseAsync("with-password", "s3cret-of-the-test");
        var withPassword = new NpgsqlConnectionStringBuilder(database) { Password = "s3cret-of-the-test" }.ConnectionString;

        var onCommandLine = await BuiltPrograms.RunDsmAsync("db", "init", "--connection", withPassword);
        Assert.Equal(2, onCommandLine.ExitCode);
        Assert.Contains("PGPASSWORD", onCommandLine.Stderr);
        Assert.DoesNotContain("s3cret", onCommandLine.Stderr);
        Assert.Equal(3, (await DsmInitAsync(database, "wrong-password")).ExitCode);
        var initialized = await DsmInitAsync(database, "s3cret-of-the-test");
        Assert.True(initialized.ExitCode == 0, initialized.Stderr);

        var refused = await BuiltPrograms.RunAsync(BuiltPrograms.Dotnet(BuiltPrograms.SiloDll,
            [.. PostgreSqlArguments(withPassword), $"--Silo:HttpPort={LoopbackPorts.Free()}"]), TimeSpan.FromSeconds(60));
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("PGPASSWORD", refused.Stderr);
        Assert.DoesNotContain("s3cret", refused.Stderr);

        await using var silo = await SiloProcess.StartWithEnvironmentAsync(
            new Dictionary<string, string> { ["PGPASSWORD"] = "s3cret-of-the-test" }, PostgreSqlArguments(database));
        await using var client = await silo.ConnectAsync();
        var array = await client.AllocateAsync<int>("behind-a-password", 10);
        await array.SetAsync(1, 11);
        Assert.True(await StoredPagesAsync(withPassword) >= 1);
    }

    private static Task<ProcessResult> DsmInitAsync(string database, string password)
    {
        var start = BuiltPrograms.Dotnet(BuiltPrograms.CliDll, ["db", "init", "--connection", database]);
        start.Environment["PGPASSWORD"] = password;
        return BuiltPrograms.RunAsync(start, TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task A_silo_refuses_a_database_with_a_newer_schema_or_without_its_schema()
    {
        var newer = await _postgres.CreateDatabaseAsync("newer");
        await DatabaseSchema.ApplyAsync(newer);
        await ExecuteAsync(newer, $"INSERT INTO dsm_schema_migrations (number, name) VALUES ({DatabaseSchema.Version + 1}, 'from the future')");
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => StartSiloAsync(newer));
        Assert.Contains($"newer than this build's {DatabaseSchema.Version}", refused.Message);

        var empty = await _postgres.CreateDatabaseAsync("empty");
        refused = await Assert.ThrowsAsync<InvalidOperationException>(() => StartSiloAsync(empty, "--Silo:ApplySchema=false"));
        Assert.Contains("lacks schema migration(s) 1, 2", refused.Message);
        Assert.Equal(0, await ScalarAsync(empty, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"));
    }

    [Fact]
    public async Task A_silo_refuses_a_database_written_with_another_page_size()
    {
        var database = await _postgres.CreateDatabaseAsync("page-size");
        int siloPort, gatewayPort;
        await using (var silo = await StartSiloAsync(database))
        {
            (siloPort, gatewayPort) = (silo.SiloPort, silo.GatewayPort);
            await using var client = await silo.ConnectAsync();
            await (await client.AllocateAsync<int>("sized", 1024)).SetAsync(1, 1);
        }

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            SiloProcess.StartOnPortsAsync(siloPort, gatewayPort, [.. PostgreSqlArguments(database), "--Dsm:PageSize=8192"]));
        Assert.Contains("4096", refused.Message);
        Assert.Contains("8192", refused.Message);
    }

    private static Task<SiloProcess> StartSiloAsync(string database, params string[] extra) =>
        SiloProcess.StartAsync([.. PostgreSqlArguments(database), .. extra]);

    private static string[] PostgreSqlArguments(string database) =>
        ["--Silo:Storage=PostgreSQL", $"--Silo:ConnectionString={database}", "--Silo:Dashboard=false"];
}
