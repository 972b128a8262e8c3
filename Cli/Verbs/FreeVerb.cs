using System.CommandLine;
using OrleansDsm.Cli.Running;

namespace OrleansDsm.Cli.Verbs;

/// <summary><c>dsm free NAME</c>: frees a region and deletes its stored pages.</summary>
internal static class FreeVerb
{
    public static Command Create()
    {
        var name = RegionArguments.Name();
        var command = new Command("free", "Free a region: its name is released and its pages are deleted.") { name };
        command.SetAction((parse, cancellation) => CliSession.RunAsync(parse.GetValue(GatewayOption.Instance)!,
            (client, token) => client.FreeAsync(parse.GetValue(name)!, token), cancellation));
        return command;
    }
}
