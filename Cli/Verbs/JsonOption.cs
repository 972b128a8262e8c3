using System.CommandLine;
using System.Text.Json;

namespace OrleansDsm.Cli.Verbs;

/// <summary>The <c>--json</c> option: output for scripts, one JSON document (or, for <c>watch</c>, one per line) on stdout.</summary>
internal static class JsonOption
{
    public static readonly Option<bool> Instance = new("--json")
    {
        Description = "Print JSON for scripts instead of text.",
        Recursive = true,
    };

    private static readonly JsonSerializerOptions Compact = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static void Write<T>(T document) => Console.WriteLine(JsonSerializer.Serialize(document, Compact));
}
