using System.CommandLine;
using OrleansDsm.Cli.Transfers;

namespace OrleansDsm.Cli.Verbs;

/// <summary>Arguments and options <c>dsm import</c> and <c>dsm export</c> share.</summary>
internal static class TransferOptions
{
    /// <summary>Elements per call: a mebibyte of them, so that progress is saved often and memory stays small.</summary>
    public static int ChunkElements(int elementSize) => Math.Max(1, (1 << 20) / elementSize);

    public static Argument<string> File() => new("file") { Description = "The file on this machine." };

    public static Option<TransferFormat> Format() => new("--format")
    {
        Description = "raw: the elements' little-endian bytes; csv: one value a line.",
        DefaultValueFactory = _ => TransferFormat.Raw,
    };

    public static Option<bool> Resume() => new("--resume")
    {
        Description = "Carry on from where a failed transfer of the same file stopped (recorded in FILE.dsm-progress).",
    };
}
