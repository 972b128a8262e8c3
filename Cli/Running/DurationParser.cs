using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.RegularExpressions;

namespace OrleansDsm.Cli.Running;

/// <summary>
/// Reads a duration option as people write one: a number and a unit (<c>500ms</c>, <c>30s</c>, <c>2m</c>,
/// <c>1.5h</c>) or .NET's own form (<c>00:00:30</c>). Anything else, or a duration that is not positive, is a parse
/// error naming the option and the value, so the verb never starts with it.
/// </summary>
internal static partial class DurationParser
{
    /// <summary>The forms accepted, for an option's description.</summary>
    public const string Forms = "500ms, 30s, 2m, 1.5h or 00:00:30";

    public static TimeSpan? Parse(ArgumentResult result)
    {
        var option = (result.Parent as OptionResult)?.Option.Name ?? result.Argument.Name;
        // The option takes exactly one value: the parser is not called without it.
        var text = result.Tokens[0].Value;
        if (TryRead(text, out var duration) && duration > TimeSpan.Zero) return duration;
        result.AddError($"{option} '{text}' is not a positive duration: write it as {Forms}.");
        return null;
    }

    /// <summary>Reads <paramref name="text"/> in one of the <see cref="Forms"/>, whatever its sign.</summary>
    public static bool TryRead(string text, out TimeSpan duration)
    {
        duration = default;
        if (text.Contains(':')) return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out duration);
        var match = NumberAndUnit().Match(text);
        if (!match.Success || !double.TryParse(match.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
            return false;
        var milliseconds = amount * match.Groups[2].Value switch { "ms" => 1, "s" => 1_000, "m" => 60_000, _ => 3_600_000 };
        // Beyond TimeSpan's range (some 29,000 years) is a typo, not a duration.
        if (milliseconds >= TimeSpan.MaxValue.TotalMilliseconds) return false;
        duration = TimeSpan.FromMilliseconds(milliseconds);
        return true;
    }

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)(ms|s|m|h)$", RegexOptions.CultureInvariant)]
    private static partial Regex NumberAndUnit();
}
