using Npgsql;

namespace OrleansDsm.Database;

/// <summary>
/// Keeps database passwords off command lines, which every user of a machine can read (<c>ps</c>). Npgsql takes the
/// password from <c>PGPASSWORD</c>, from a password file (<c>~/.pgpass</c>, <c>PGPASSFILE</c> or <c>Passfile=</c>),
/// or from a connection string given through the environment or a settings file.
/// </summary>
public static class ConnectionPasswords
{
    /// <summary>What to tell someone who gave a password on the command line, naming <paramref name="setting"/>.</summary>
    public static string CommandLineRefusal(string setting) =>
        $"{setting} holds a password, and a command line is readable by every user of this machine: give the password in PGPASSWORD or a ~/.pgpass file (or Passfile=PATH in the connection string) instead.";

    /// <summary>Whether <paramref name="connectionString"/> carries a password; false when it does not parse (reported elsewhere).</summary>
    public static bool Holds(string? connectionString)
    {
        if (string.IsNullOrEmpty(connectionString)) return false;
        try
        {
            return !string.IsNullOrEmpty(new NpgsqlConnectionStringBuilder(connectionString).Password);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
