using System.Numerics;
using OrleansDsm.Cli.Running;

namespace OrleansDsm.Cli.Verbs;

/// <summary>
/// How the single-element verbs print an element: the value alone, or with <c>--json</c> a document naming the region,
/// the index and the value (as a string, as <c>dump</c> and <c>watch</c> give it, so 64-bit integers stay exact).
/// </summary>
internal static class ElementOutput
{
    public static void Print<T>(string region, long index, T value, bool json) where T : INumber<T>
    {
        if (json) JsonOption.Write(new { region, index, value = ElementTypeDispatch.Format(value) });
        else Console.WriteLine(ElementTypeDispatch.Format(value));
    }
}
