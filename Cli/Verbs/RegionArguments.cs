using System.CommandLine;
using OrleansDsm.Cli.Running;

namespace OrleansDsm.Cli.Verbs;

/// <summary>Arguments shared by the verbs that address a region or one of its elements.</summary>
internal static class RegionArguments
{
    public static Argument<string> Name() => new("name") { Description = "The region's name." };

    public static Argument<long> Index() => new("index") { Description = "The element's index, from 0.", CustomParser = WholeNumberParser.Parse<long> };
}
