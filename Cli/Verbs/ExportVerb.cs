using System.CommandLine;
using System.Numerics;
using System.Runtime.InteropServices;
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
            var export = new Export(client, region, path, from, parse.GetValue(JsonOption.Instance), token);
            // Raw bytes are what the region holds, whatever its type; CSV needs values the tool can print.
            if (TransferOptions.FormatFor(parse.GetValue(format), path) == TransferFormat.Raw) await export.RunAsync(TransferFormat.Raw, bytes => bytes);
            else await ElementTypeDispatch.Run(TransferOptions.CsvType(region), export);
        }, cancellation));
        return command;
    }

    private sealed class Export(DsmClient client, Regions.RegionDescriptor region, string path, TransferProgress from, bool json, CancellationToken cancellation) : INumericVerb
    {
        public Task Run<T>(string typeName) where T : unmanaged, INumber<T> =>
            RunAsync(TransferFormat.Csv, bytes => TransferEncoding.EncodeCsv(MemoryMarshal.Cast<byte, T>(bytes.Span)));

        /// <summary>
        /// Reads the region a chunk at a time, each page atomically, and writes each chunk as <paramref name="encode"/>
        /// lays it out (raw: the chunk itself, not a copy).
        /// </summary>
        public async Task RunAsync(TransferFormat format, Func<ReadOnlyMemory<byte>, ReadOnlyMemory<byte>> encode)
        {
            var length = region.ElementCount;
            if (from.Elements > length)
                throw new InvalidDataException($"{TransferProgress.PathFor(path)} records {from.Elements} elements, more than region '{region.Name}' holds; delete it and export again.");
            var chunk = new byte[(long)TransferOptions.ChunkElements(region.ElementSize) * region.ElementSize];
            var progress = new ProgressBar($"export {region.Name}", length);
            await using (var output = new FileStream(path, from.Elements == 0 ? FileMode.Create : FileMode.Open, FileAccess.Write))
            {
                // What a failed export wrote past its last saved chunk is dropped and written again.
                output.SetLength(from.FileBytes);
                output.Position = from.FileBytes;
                var done = from;
                while (done.Elements < length)
                {
                    var count = (int)Math.Min(chunk.Length / region.ElementSize, length - done.Elements);
                    var part = chunk.AsMemory(0, count * region.ElementSize);
                    await client.ReadAsync(region.BaseAddress + done.Elements * region.ElementSize, part, cancellation);
                    var bytes = encode(part);
                    await output.WriteAsync(bytes, cancellation);
                    await output.FlushAsync(cancellation);
                    done = new TransferProgress(done.Elements + count, done.FileBytes + bytes.Length);
                    done.Save(path);
                    progress.Report(done.Elements);
                }
            }
            progress.Done();
            TransferProgress.Finish(path);
            var size = new FileInfo(path).Length;
            var name = format.ToString().ToLowerInvariant();
            if (json) JsonOption.Write(new { region = region.Name, file = path, format = name, elements = length, bytes = size });
            else Console.WriteLine($"exported {Counted.Of(length, "element")} of '{region.Name}' to {path} ({Counted.Of(size, "byte")}, {name})");
        }
    }
}
