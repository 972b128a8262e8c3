using System.CommandLine.Parsing;
using OrleansDsm.Regions;

namespace OrleansDsm.Cli.Running;

/// <summary>
/// Reads <c>--consistency</c>: <c>strict</c>, <c>uncached</c>, <c>release</c>, or <c>bounded:</c> and a staleness
/// bound written as <see cref="DurationParser"/> reads durations. Anything else is a parse error naming the value.
/// </summary>
internal static class ConsistencyParser
{
    /// <summary>The forms accepted, for the option's description.</summary>
    public const string Forms = "strict, uncached, release or bounded:DURATION (bounded:500ms, at most a day)";

    public static Consistency? Parse(ArgumentResult result)
    {
        // The option takes exactly one value: the parser is not called without it.
        var text = result.Tokens[0].Value;
        const string bounded = "bounded:";
        Consistency? consistency = text.ToLowerInvariant() switch
        {
            "strict" => Consistency.Strict,
            "uncached" => Consistency.Uncached,
            "release" => Consistency.Release,
            var other when other.StartsWith(bounded, StringComparison.Ordinal) && DurationParser.TryRead(other[bounded.Length..], out var staleness)
                => BoundedOrNull(staleness),
            _ => null,
        };
        if (consistency is null) result.AddError($"--consistency '{text}' is not known: it is {Forms}.");
        return consistency;
    }

    /// <summary>The Bounded model, or null for a bound the model itself refuses (it keeps the range).</summary>
    private static Consistency? BoundedOrNull(TimeSpan staleness)
    {
        try
        {
            return Consistency.Bounded(staleness);
        }
        catch (ArgumentOutOfRangeException)
        {
            return null;
        }
    }
}
