using System.CommandLine;
using Npgsql;
using OrleansDsm.Cli.Running;
using OrleansDsm.Database;

namespace OrleansDsm.Cli.Verbs;

/// <summary>
/// <c>dsm db init --connection STRING</c>: applies the PostgreSQL schema silos need, the migrations the database lacks,
/// once each. Safe to run again, and while silos run.
/// </summary>
internal static class DbVerb
{
    public static Command Create()
    {
        var connection = new Option<string>("--connection")
        {
            Description = "The Npgsql connection string of the cluster's database, e.g. \"Host=db;Database=dsm;Username=dsm\"; no password: it comes from PGPASSWORD or ~/.pgpass.",
            Required = true,
        };
        var init = new Command("init", "Create or upgrade the PostgreSQL schema silos need (idempotent).") { connection };
        init.SetAction((parse, cancellation) => InitAsync(parse.GetValue(connection)!, parse.GetValue(JsonOption.Instance), cancellation));
        return new Command("db", "Manage the cluster's PostgreSQL database.") { init };
    }

    private static async Task<int> InitAsync(string connection, bool json, CancellationToken cancellation)
    {
        if (ConnectionPasswords.Holds(connection))
        {
            await Console.Error.WriteLineAsync($"dsm: {ConnectionPasswords.CommandLineRefusal("--connection")}");
            return ExitCodes.BadInput;
        }
        try
        {
            var applied = await DatabaseSchema.ApplyAsync(connection, cancellation);
            if (json) JsonOption.Write(new { schemaVersion = DatabaseSchema.Version, applied });
            else Console.WriteLine(applied.Count == 0
                ? $"schema already at version {DatabaseSchema.Version}"
                : $"schema at version {DatabaseSchema.Version}: applied {string.Join(", ", applied)}");
            return ExitCodes.Success;
        }
        catch (Exception error) when (error is ArgumentException or SchemaMismatchException or NpgsqlException)
        {
            await Console.Error.WriteLineAsync($"dsm: {error.Message}");
            return error switch
            {
                ArgumentException => ExitCodes.BadInput,
                SchemaMismatchException => ExitCodes.Refused,
                _ => ExitCodes.Unreachable,
            };
        }
    }
}
