using System.CommandLine;
using OrleansDsm.Backups;
using OrleansDsm.Cli.Running;

namespace OrleansDsm.Cli.Verbs;

/// <summary><c>dsm backup --out FILE</c>: a checksummed snapshot of every region, read by a silo from storage, written here.</summary>
internal static class BackupVerb
{
    public static Command Create()
    {
        var output = new Option<FileInfo>("--out") { Description = "The file to write the backup to (replaced only once the backup is complete).", Required = true };
        var command = new Command("backup", "Write a consistent, checksummed snapshot of every region to a file on this machine.") { output };
        command.SetAction((parse, cancellation) => CliSession.RunAsync(parse, async (client, token) =>
        {
            var target = parse.GetValue(output)!;
            if (target.Directory is { Exists: false } folder) throw new ArgumentException($"The folder {folder.FullName} of --out does not exist.");
            if (Directory.Exists(target.FullName)) throw new ArgumentException($"--out {target.FullName} is a folder; it names the backup file to write.");
            // Written beside the target and renamed at the end, so a failed backup never leaves a partial file under its name.
            var partial = target.FullName + ".partial";
            try
            {
                BackupSummary summary;
                await using (var file = File.Create(partial)) summary = await client.BackupAsync(file, token);
                File.Move(partial, target.FullName, overwrite: true);
                if (parse.GetValue(JsonOption.Instance)) JsonOption.Write(new { regions = summary.Regions, pages = summary.Pages, pageBytes = summary.PageBytes, file = target.FullName });
                else Console.WriteLine($"backup: {Counted.Of(summary.Regions, "region")}, {Counted.Of(summary.Pages, "stored page")} ({Counted.Of(summary.PageBytes, "byte")}) written to {target.FullName}");
            }
            finally
            {
                File.Delete(partial);
            }
        }, cancellation));
        return command;
    }
}
