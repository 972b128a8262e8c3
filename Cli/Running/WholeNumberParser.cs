using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace OrleansDsm.Cli.Running;

/// <summary>
/// Reads a whole-number argument or option, and refuses anything else in words a user reads: the argument's name,
/// the value, and whether it is no number or out of range (System.CommandLine's own error names .NET types instead).
/// </summary>
internal static class WholeNumberParser
{
    public static T Parse<T>(ArgumentResult result) where T : struct, IBinaryInteger<T>, IMinMaxValue<T> => Read<T>(result) ?? default;

    public static T? ParseOptional<T>(ArgumentResult result) where T : struct, IBinaryInteger<T>, IMinMaxValue<T> => Read<T>(result);

    private static T? Read<T>(ArgumentResult result) where T : struct, IBinaryInteger<T>, IMinMaxValue<T>
    {
        var name = (result.Parent as OptionResult)?.Option.Name ?? result.Argument.Name;
        // Each of these takes exactly one value: the parser is not called without it.
        var text = result.Tokens[0].Value;
        if (T.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)) return value;
        result.AddError(BigInteger.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)
            ? $"{name} '{text}' is out of range: it is from {T.MinValue} to {T.MaxValue}."
            : $"{name} '{text}' is not a whole number.");
        return null;
    }
}
