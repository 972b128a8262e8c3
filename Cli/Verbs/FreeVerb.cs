using System.CommandLine;
using OrleansDsm.Cli.Running;

namespace OrleansDsm.Cli.Verbs;

/// <summary>
/// <c>dsm free NAME</c>: frees a region and deletes its stored pages, given the owner token or the cluster's admin
/// token in <c>DSM_TOKEN</c>: from the environment, never the command line, where other users could read it.
/// </summary>
internal static class FreeVerb
{
    public const string TokenVariable = "DSM_TOKEN";

    public static Command Create()
    {
        var name = RegionArguments.Name();
        var command = new Command("free", $"Free a region: its name is released and its pages are deleted. Needs its owner token (printed by dsm alloc) or the admin token in the {TokenVariable} environment variable.") { name };
        command.SetAction((parse, cancellation) => CliSession.RunAsync(parse,
            async (client, token) =>
            {
                await client.FreeAsync(parse.GetValue(name)!, Environment.GetEnvironmentVariable(TokenVariable), token);
                if (parse.GetValue(JsonOption.Instance)) JsonOption.Write(new { freed = parse.GetValue(name) });
            }, cancellation));
        return command;
    }
}
