namespace OrleansDsm.Cli.Running;

/// <summary>A count with its noun, singular for one: the tool's lines read "1 page", not "1 pages".</summary>
internal static class Counted
{
    public static string Of(long count, string noun) => count == 1 ? $"1 {noun}" : $"{count} {noun}s";
}
