using System.CommandLine;
using System.Numerics;
using OrleansDsm.Cli.Running;
using OrleansDsm.Cli.Transfers;

namespace OrleansDsm.Cli.Verbs;

/// <summary>
/// <c>dsm export NAME FILE [--format raw|csv] [--resume]</c>: writes every element of the region to a file, a
/// mebibyte of elements per read (each page read atomically), saving its progress after each so <c>--resume</c> can
/// finish a failed export.
/// </summary>
internal static class ExportVerb
{
    public static Command Create()
    {
        var name = RegionArguments.Name();
        var file = TransferOptions.File();
        var format = TransferOptions.Format();
        var resume = TransferOptions.Resume();
        var command = new Command("export", "Write a region's elements to a file (raw bytes or CSV), with progress; --resume finishes a failed export.") { name, file, format, resume };
        command.SetAction((parse, cancellation) => CliSession.RunAsync(parse, async (client, token) =>
        {
            var region = await client.DescribeAsync(parse.GetValue(name)!, token);
            var path = parse.GetValue(file)!;
            if (Directory.Exists(path)) throw new ArgumentException($"'{path}' is a folder; export writes a file.");
            if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } folder && !Directory.Exists(folder))
                throw new ArgumentException($"The folder {folder} of '{path}' does not exist.");
            var from = parse.GetValue(resume) ? TransferProgress.Load(path, "export") : new TransferProgress(0, 0);
            await ElementTypeDispatch.Run(region.ElementType, new Export(client, region, path, TransferOptions.FormatFor(parse.GetValue(format), path), from, parse.GetValue(JsonOption.Instance), token));
        }, cancellation));
        return command;
    }

    private sealed class Export(DsmClient client, Regions.RegionDescriptor region, string path, TransferFormat format, TransferProgress from, bool json, CancellationToken cancellation) : INumericVerb
    {
        public async Task Run<T>(string typeName) where T : unmanaged, INumber<T>
        {
            var array = await client.OpenAsync<T>(region.Name, cancellation);
            if (from.Elements > array.Length)
                throw new InvalidDataException($"{TransferProgress.PathFor(path)} records {from.Elements} elements, more than region '{region.Name}' holds; delete it and export again.");
            var chunk = new T[TransferOptions.ChunkElements(region.ElementSize)];
            var progress = new ProgressBar($"export {region.Name}", array.Length);
            await using (var output = new FileStream(path, from.Elements == 0 ? FileMode.Create : FileMode.Open, FileAccess.Write))
            {
                // What a failed export wrote past its last saved chunk is dropped and written again.
                output.SetLength(from.FileBytes);
                output.Position = from.FileBytes;
                var done = from;
                while (done.Elements < array.Length)
                {
                    var part = chunk.AsMemory(0, (int)Math.Min(chunk.Length, array.Length - done.Elements));
                    await array.ReadAsync(done.Elements, part, cancellation);
                    var bytes = TransferEncoding.Encode<T>(format, part.Span);
                    await output.WriteAsync(bytes, cancellation);
                    await output.FlushAsync(cancellation);
                    done = new TransferProgress(done.Elements + part.Length, done.FileBytes + bytes.Length);
                    done.Save(path);
                    progress.Report(done.Elements);
                }
            }
            progress.Done();
            TransferProgress.Finish(path);
            var size = new FileInfo(path).Length;
            if (json) JsonOption.Write(new { region = region.Name, file = path, format = format.ToString().ToLowerInvariant(), elements = array.Length, bytes = size });
            else Console.WriteLine($"exported {Counted.Of(array.Length, "element")} of '{region.Name}' to {path} ({Counted.Of(size, "byte")}, {format.ToString().ToLowerInvariant()})");
        }
    }
}
