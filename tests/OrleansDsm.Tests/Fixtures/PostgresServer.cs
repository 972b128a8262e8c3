using System.Diagnostics;
using Npgsql;
using OrleansDsm.Testing;
using OrleansDsm.Tests.Processes;

namespace OrleansDsm.Tests.Fixtures;

/// <summary>
/// A private, throwaway PostgreSQL 15 cluster from the installed server binaries, on loopback and a free port, removed
/// on dispose. initdb refuses root, so as root the server runs as the <c>postgres</c> user. fsync is off: tests kill
/// silos, never the database, so durability against power loss is not what they measure.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private const string Binaries = "/usr/lib/postgresql/15/bin";
    private readonly string _directory;
    private readonly int _port;
    private readonly string _address;
    private readonly string? _namespace;

    private PostgresServer(string directory, int port, string address, string? networkNamespace)
    {
        _directory = directory;
        _port = port;
        _address = address;
        _namespace = networkNamespace;
    }

    /// <summary>A connection string for <paramref name="database"/> on this server.</summary>
    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder { Host = _address, Port = _port, Username = "postgres", Database = database, Pooling = true }.ConnectionString;

    /// <summary>
    /// Starts a server on loopback, or on <paramref name="address"/> inside network namespace
    /// <paramref name="networkNamespace"/> (then on port 5432 and open to the test network 10.200.0.0/24).
    /// </summary>
    public static async Task<PostgresServer> StartAsync(string address = "127.0.0.1", string? networkNamespace = null)
    {
        var directory = Directory.CreateTempSubdirectory("dsm-pg-").FullName;
        var server = new PostgresServer(directory, networkNamespace is null ? LoopbackPorts.Free() : 5432, address, networkNamespace);
        if (Environment.UserName == "root") await RunAsync("chown", "postgres:postgres", directory);
        await server.RunAsPostgresAsync("initdb", "-D", $"{directory}/data", "--auth=trust", "-U", "postgres", "--no-sync", "-E", "UTF8");
        // One role must give a password (the first matching line wins), so tests can show where passwords come from.
        var rules = await File.ReadAllTextAsync($"{directory}/data/pg_hba.conf");
        await File.WriteAllTextAsync($"{directory}/data/pg_hba.conf", $"host all {PasswordRole} all scram-sha-256\n{rules}");
        if (networkNamespace is not null)
            await File.AppendAllTextAsync($"{directory}/data/pg_hba.conf", "host all all 10.200.0.0/24 trust\n");
        await server.RunAsPostgresAsync("pg_ctl", "-D", $"{directory}/data", "-l", $"{directory}/server.log", "-w", "start",
            "-o", $"-p {server._port} -k {directory} -c listen_addresses={address} -c fsync=off -c max_connections=200");
        return server;
    }

    /// <summary>The role that must log in with a password (all others are trusted).</summary>
    public const string PasswordRole = "dsm_secret";

    /// <summary>
    /// Creates an empty database owned by <see cref="PasswordRole"/>, whose password becomes <paramref name="password"/>,
    /// and returns its connection string, which holds no password.
    /// </summary>
    public async Task<string> CreatePasswordDatabaseAsync(string name, string password)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        foreach (var statement in new[]
                 {
                     $"DO $$BEGIN CREATE ROLE {PasswordRole} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$",
                     $"ALTER ROLE {PasswordRole} PASSWORD '{password.Replace("'", "''")}'",
                     $"CREATE DATABASE \"{name}\" OWNER {PasswordRole}",
                 })
        {
            await using var command = new NpgsqlCommand(statement, connection);
            await command.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder { Host = _address, Port = _port, Username = PasswordRole, Database = name, Pooling = true }.ConnectionString;
    }

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await create.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    /// <summary>The one number <paramref name="sql"/> selects from <paramref name="database"/> (a connection string).</summary>
    public static async Task<long> ScalarAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    /// <summary>Runs <paramref name="sql"/> on <paramref name="database"/> (a connection string).</summary>
    public static async Task ExecuteAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>How many pages the batched page store of <paramref name="database"/> holds bytes for.</summary>
    public static Task<long> StoredPagesAsync(string database) =>
        ScalarAsync(database, "SELECT count(*) FROM dsm_pages WHERE payload IS NOT NULL");

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            await RunAsPostgresAsync("pg_ctl", "-D", $"{_directory}/data", "-m", "immediate", "-w", "stop");
        }
        finally
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private Task RunAsPostgresAsync(string program, params string[] arguments)
    {
        string[] command = Environment.UserName == "root"
            ? ["runuser", "-u", "postgres", "--", $"{Binaries}/{program}", .. arguments]
            : [$"{Binaries}/{program}", .. arguments];
        if (_namespace is not null) command = ["ip", "netns", "exec", _namespace, .. command];
        return RunAsync(command[0], command[1..]);
    }

    private static async Task RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await errors}{await output}");
    }
}
