using System.CommandLine;

namespace OrleansDsm.Cli.Verbs;

/// <summary>The <c>--gateway HOST:PORT</c> option every verb takes.</summary>
internal static class GatewayOption
{
    public static readonly Option<string> Instance = new("--gateway")
    {
        Description = "The silo gateway to connect to, as HOST:PORT.",
        DefaultValueFactory = _ => "localhost:30000",
        Recursive = true,
    };
}
