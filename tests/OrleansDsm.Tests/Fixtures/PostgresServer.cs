using System.Diagnostics;
using Npgsql;
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

    private PostgresServer(string directory, int port)
    {
        _directory = directory;
        _port = port;
    }

    /// <summary>A connection string for <paramref name="database"/> on this server.</summary>
    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = _port, Username = "postgres", Database = database, Pooling = true }.ConnectionString;

    public static async Task<PostgresServer> StartAsync()
    {
        var directory = Directory.CreateTempSubdirectory("dsm-pg-").FullName;
        var server = new PostgresServer(directory, BuiltPrograms.FreePort());
        if (Environment.UserName == "root") await RunAsync("chown", "postgres:postgres", directory);
        await server.RunAsPostgresAsync("initdb", "-D", $"{directory}/data", "--auth=trust", "-U", "postgres", "--no-sync", "-E", "UTF8");
        await server.RunAsPostgresAsync("pg_ctl", "-D", $"{directory}/data", "-l", $"{directory}/server.log", "-w", "start",
            "-o", $"-p {server._port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200");
        return server;
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

    private Task RunAsPostgresAsync(string program, params string[] arguments) =>
        Environment.UserName == "root"
            ? RunAsync("runuser", ["-u", "postgres", "--", $"{Binaries}/{program}", .. arguments])
            : RunAsync($"{Binaries}/{program}", arguments);

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
