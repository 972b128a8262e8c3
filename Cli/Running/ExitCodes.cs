namespace OrleansDsm.Cli.Running;

/// <summary>What <c>dsm</c> returns to the shell.</summary>
internal static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Success = 0;

    /// <summary>The cluster refused the request: no such region, name taken, quota, type mismatch, region freed; or a database schema newer than this tool.</summary>
    public const int Refused = 1;

    /// <summary>The command line was wrong: unknown verb or option, malformed value, index out of range, a file that is not a usable backup.</summary>
    public const int BadInput = 2;

    /// <summary>No silo answered at the gateway, or the cluster stopped answering while the verb ran (or, for <c>dsm db</c>, the database could not be reached).</summary>
    public const int Unreachable = 3;
}
