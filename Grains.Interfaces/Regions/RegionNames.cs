using System.Text.RegularExpressions;

namespace OrleansDsm.Regions;

/// <summary>
/// The rule for region names: 1 to 128 characters of ASCII letters, digits, '.', '_' and '-', starting with a
/// letter or digit. Names are case-sensitive. The rule keeps names safe to print, to pass on a command line and
/// to use as keys in any storage.
/// </summary>
public static partial class RegionNames
{
    /// <summary>The longest name allowed.</summary>
    public const int MaxLength = 128;

    /// <summary>Says what is wrong with <paramref name="name"/>, or null when it is a valid region name.</summary>
    public static string? Describe(string? name) => name switch
    {
        null or "" => "A region name must not be empty.",
        { Length: > MaxLength } => $"A region name has at most {MaxLength} characters; this one has {name.Length}.",
        _ when !Pattern().IsMatch(name) =>
            $"Region name '{name}' is not valid: use letters, digits, '.', '_' and '-', starting with a letter or digit.",
        _ => null,
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the problem when <paramref name="name"/> is not valid.</summary>
    public static void Validate(string? name, string parameterName = "name")
    {
        if (Describe(name) is { } problem) throw new ArgumentException(problem, parameterName);
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
