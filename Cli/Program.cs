using System.CommandLine;
using OrleansDsm.Cli.Running;
using OrleansDsm.Cli.Verbs;

var root = new RootCommand("dsm: inspect and change the OrleansDsm shared memory.")
{
    ConnectionOptions.Gateway,
    ConnectionOptions.TlsAuthority,
    ConnectionOptions.TlsCertificate,
    JsonOption.Instance,
    AllocVerb.Create(),
    ListVerb.Create(),
    GetVerb.Create(),
    StatVerb.Create(),
    DumpVerb.Create(),
    WatchVerb.Create(),
    SetVerb.Create(),
    AddVerb.Create(),
    FreeVerb.Create(),
    BackupVerb.Create(),
    ImportVerb.Create(),
    ExportVerb.Create(),
    RestoreVerb.Create(),
    DbVerb.Create(),
    BenchVerb.Create(),
};

var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    await Console.Error.WriteLineAsync($"dsm: {string.Join("; ", parse.Errors.Select(error => OneLine(error.Message).TrimEnd('.')))} (see dsm --help)");
    return ExitCodes.BadInput;
}
return await parse.InvokeAsync();

// Some parser messages list choices on separate lines; scripts get one line.
static string OneLine(string message) => string.Join(' ', message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
