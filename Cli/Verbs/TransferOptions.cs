using System.CommandLine;
using OrleansDsm.Cli.Running;
using OrleansDsm.Cli.Transfers;

namespace OrleansDsm.Cli.Verbs;

/// <summary>Arguments and options <c>dsm import</c> and <c>dsm export</c> share.</summary>
internal static class TransferOptions
{
    /// <summary>Elements per call: a mebibyte of them, so that progress is saved often and memory stays small.</summary>
    public static int ChunkElements(int elementSize) => Math.Max(1, (1 << 20) / elementSize);

    public static Argument<string> File() => new("file") { Description = "The file on this machine." };

    public static Option<TransferFormat?> Format() => new("--format")
    {
        Description = "raw: the elements' little-endian bytes; csv: one value a line. By default csv for a file named *.csv, raw otherwise.",
        HelpName = "raw|csv",
        CustomParser = result =>
        {
            // The option takes exactly one value: the parser is not called without it.
            var text = result.Tokens[0].Value;
            // By name only: Enum.TryParse would take "1" for csv.
            if (Enum.GetNames<TransferFormat>().FirstOrDefault(known => known.Equals(text, StringComparison.OrdinalIgnoreCase)) is { } name)
                return Enum.Parse<TransferFormat>(name);
            result.AddError($"--format '{text}' is not known: it is raw or csv.");
            return null;
        },
    };

    /// <summary>The format asked for, or else the one the file's name says: a <c>.csv</c> file holds CSV.</summary>
    public static TransferFormat FormatFor(TransferFormat? chosen, string path) =>
        chosen ?? (Path.GetExtension(path).Equals(".csv", StringComparison.OrdinalIgnoreCase) ? TransferFormat.Csv : TransferFormat.Raw);

    /// <summary>The region's element type, when the tool can read and write its values as CSV.</summary>
    /// <exception cref="NotSupportedException">It cannot: the region holds bool, char or an app's own type.</exception>
    public static string CsvType(Regions.RegionDescriptor region) => ElementTypeDispatch.Handles(region.ElementType)
        ? region.ElementType
        : throw new NotSupportedException($"CSV needs numbers, and region '{region.Name}' holds {region.ElementType}: use --format raw.");

    public static Option<bool> Resume() => new("--resume")
    {
        Description = "Carry on from where a failed transfer of the same file stopped (recorded in FILE.dsm-progress).",
    };
}
