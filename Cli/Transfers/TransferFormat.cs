using System.Numerics;
using System.Text;
using OrleansDsm.Cli.Running;

namespace OrleansDsm.Cli.Transfers;

/// <summary>How <c>dsm import</c> and <c>dsm export</c> lay elements out in a file.</summary>
internal enum TransferFormat
{
    /// <summary>The elements' bytes, little-endian, back to back: what the region holds.</summary>
    Raw,

    /// <summary>One value a line, as <c>dsm get</c> prints it (invariant culture, exact round trip).</summary>
    Csv,
}

/// <summary>Element chunks to and from CSV; raw chunks are the region's bytes as they are.</summary>
internal static class TransferEncoding
{
    /// <summary>CSV lines for <paramref name="values"/>, in UTF-8; raw chunks need no encoding, being the region's bytes.</summary>
    public static byte[] EncodeCsv<T>(ReadOnlySpan<T> values) where T : unmanaged, INumber<T>
    {
        var text = new StringBuilder(values.Length * 8);
        foreach (var value in values) text.Append(ElementTypeDispatch.Format(value)).Append('\n');
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>Parses one CSV line; the error names the line, so a bad file is easy to fix.</summary>
    public static T ParseLine<T>(string line, long lineNumber, string typeName) where T : unmanaged, INumber<T>
    {
        try
        {
            return ElementTypeDispatch.Parse<T>(line.Trim(), typeName);
        }
        catch (FormatException error)
        {
            throw new FormatException($"Line {lineNumber}: {error.Message}");
        }
    }
}
