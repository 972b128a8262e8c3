using System.Reflection;
using Npgsql;

namespace OrleansDsm.Database;

/// <summary>
/// The PostgreSQL schema the silo needs, shipped as numbered migrations (Database/Migrations/NNNN_name.sql, embedded
/// in this assembly). Applying is idempotent: each migration runs once, in order, recorded in
/// <c>dsm_schema_migrations</c>, under an advisory lock so silos starting together do not race.
/// </summary>
public static class DatabaseSchema
{
    private const long MigrationLock = 0x64736d_736368; // "dsm" "sch": any constant shared by every silo

    /// <summary>The migrations this build knows, in order.</summary>
    public static IReadOnlyList<Migration> Migrations { get; } = LoadMigrations();

    /// <summary>The schema version this build expects: the number of its last migration.</summary>
    public static int Version => Migrations[^1].Number;

    /// <summary>Applies every migration the database lacks; returns the numbers applied now.</summary>
    /// <exception cref="SchemaMismatchException">The database holds migrations newer than this build knows.</exception>
    public static async Task<IReadOnlyList<int>> ApplyAsync(string connectionString, CancellationToken cancellation = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        await ExecuteAsync(connection, $"SELECT pg_advisory_xact_lock({MigrationLock})", cancellation);
        await ExecuteAsync(connection, """
            CREATE TABLE IF NOT EXISTS dsm_schema_migrations
            (
                number     integer     PRIMARY KEY,
                name       text        NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, cancellation);
        var applied = await AppliedAsync(connection, cancellation);
        RequireKnown(applied);
        var added = new List<int>();
        foreach (var migration in Migrations.Where(m => !applied.Contains(m.Number)))
        {
            await ExecuteAsync(connection, migration.Sql, cancellation);
            await using var record = new NpgsqlCommand("INSERT INTO dsm_schema_migrations (number, name) VALUES ($1, $2)", connection);
            record.Parameters.AddWithValue(migration.Number);
            record.Parameters.AddWithValue(migration.Name);
            await record.ExecuteNonQueryAsync(cancellation);
            added.Add(migration.Number);
        }
        await transaction.CommitAsync(cancellation);
        return added;
    }

    /// <summary>Checks, without changing anything, that the database holds exactly the migrations this build knows.</summary>
    /// <exception cref="SchemaMismatchException">Some migration is missing, or the database is newer than this build.</exception>
    public static async Task RequireCurrentAsync(string connectionString, CancellationToken cancellation = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellation);
        await using var exists = new NpgsqlCommand("SELECT to_regclass('dsm_schema_migrations') IS NOT NULL", connection);
        var applied = (bool)(await exists.ExecuteScalarAsync(cancellation))! ? await AppliedAsync(connection, cancellation) : [];
        RequireKnown(applied);
        var missing = Migrations.Where(m => !applied.Contains(m.Number)).Select(m => m.Number).ToList();
        if (missing.Count > 0)
            throw new SchemaMismatchException(
                $"The database lacks schema migration(s) {string.Join(", ", missing)} of version {Version}; run 'dsm db init' or start a silo with Silo:ApplySchema=true.");
    }

    private static void RequireKnown(HashSet<int> applied)
    {
        if (applied.Count > 0 && applied.Max() > Version)
            throw new SchemaMismatchException(
                $"The database schema is at version {applied.Max()}, newer than this build's {Version}; upgrade this silo before starting it.");
    }

    private static async Task<HashSet<int>> AppliedAsync(NpgsqlConnection connection, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand("SELECT number FROM dsm_schema_migrations", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        var applied = new HashSet<int>();
        while (await reader.ReadAsync(cancellation)) applied.Add(reader.GetInt32(0));
        return applied;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellation);
    }

    private static List<Migration> LoadMigrations()
    {
        var assembly = typeof(DatabaseSchema).Assembly;
        const string prefix = "OrleansDsm.Database.Migrations.";
        return assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal) && name.EndsWith(".sql", StringComparison.Ordinal))
            .Select(name =>
            {
                var file = name[prefix.Length..^".sql".Length];
                using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
                return new Migration(int.Parse(file[..4], System.Globalization.CultureInfo.InvariantCulture), file[5..], reader.ReadToEnd());
            })
            .OrderBy(migration => migration.Number)
            .ToList();
    }

    /// <summary>One numbered step of the schema.</summary>
    public sealed record Migration(int Number, string Name, string Sql);
}
