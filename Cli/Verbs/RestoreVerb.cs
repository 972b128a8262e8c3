using System.CommandLine;
using OrleansDsm.Cli.Running;

namespace OrleansDsm.Cli.Verbs;

/// <summary><c>dsm restore FILE</c>: brings a backup back into a cluster without regions.</summary>
internal static class RestoreVerb
{
    public static Command Create()
    {
        var input = new Argument<FileInfo>("file") { Description = "A file written by dsm backup." };
        var command = new Command("restore", "Restore a backup into a cluster that holds no region; the file is checked whole before anything changes.") { input };
        command.SetAction((parse, cancellation) => CliSession.RunAsync(parse, async (client, token) =>
        {
            var source = parse.GetValue(input)!;
            if (Directory.Exists(source.FullName)) throw new ArgumentException($"{source.FullName} is a folder, not a backup file.");
            if (!source.Exists) throw new ArgumentException($"There is no backup file {source.FullName}.");
            await using var file = source.OpenRead();
            var summary = await client.RestoreAsync(file, token);
            if (parse.GetValue(JsonOption.Instance)) JsonOption.Write(new { regions = summary.Regions, pages = summary.Pages, pageBytes = summary.PageBytes, file = source.FullName });
            else Console.WriteLine($"restore: {Counted.Of(summary.Regions, "region")}, {Counted.Of(summary.Pages, "stored page")} ({Counted.Of(summary.PageBytes, "byte")}) from {source.FullName}");
        }, cancellation));
        return command;
    }
}
