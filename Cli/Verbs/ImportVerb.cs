using System.CommandLine;
using System.Numerics;
using System.Runtime.InteropServices;
using OrleansDsm.Cli.Running;
using OrleansDsm.Cli.Transfers;

namespace OrleansDsm.Cli.Verbs;

/// <summary>
/// <c>dsm import NAME FILE [--format raw|csv] [--resume]</c>: writes a file's elements into the region from element 0.
/// The whole file is checked first (every value parses, it fits the region), so a bad file changes nothing; then it
/// goes in a mebibyte of elements per write, the progress saved after each so <c>--resume</c> can finish a failed import.
/// </summary>
internal static class ImportVerb
{
    public static Command Create()
    {
        var name = RegionArguments.Name();
        var file = TransferOptions.File();
        var format = TransferOptions.Format();
        var resume = TransferOptions.Resume();
        var command = new Command("import", "Write a file's elements (raw bytes or CSV) into a region from element 0, with progress; --resume finishes a failed import.") { name, file, format, resume };
        command.SetAction((parse, cancellation) => CliSession.RunAsync(parse, async (client, token) =>
        {
            var region = await client.DescribeAsync(parse.GetValue(name)!, token);
            var path = parse.GetValue(file)!;
            if (Directory.Exists(path)) throw new ArgumentException($"'{path}' is a folder, not a file to import.");
            if (!File.Exists(path)) throw new ArgumentException($"There is no file '{path}' to import.");
            var from = parse.GetValue(resume) ? TransferProgress.Load(path, "import") : new TransferProgress(0, 0);
            await ElementTypeDispatch.Run(region.ElementType, new Import(client, region, path, TransferOptions.FormatFor(parse.GetValue(format), path), from, parse.GetValue(JsonOption.Instance), token));
        }, cancellation));
        return command;
    }

    private sealed class Import(DsmClient client, Regions.RegionDescriptor region, string path, TransferFormat format, TransferProgress from, bool json, CancellationToken cancellation) : INumericVerb
    {
        public async Task Run<T>(string typeName) where T : unmanaged, INumber<T>
        {
            var array = await client.OpenAsync<T>(region.Name, cancellation);
            var total = await CheckAsync<T>(typeName, array.Length);
            if (from.Elements > total)
                throw new InvalidDataException($"{TransferProgress.PathFor(path)} records {from.Elements} elements, more than '{path}' holds; delete it and import again.");
            var progress = new ProgressBar($"import {region.Name}", total);
            var chunk = new T[TransferOptions.ChunkElements(region.ElementSize)];
            var done = from;
            await foreach (var (count, fileBytes) in ReadChunksAsync(chunk, typeName))
            {
                await array.WriteAsync(done.Elements, chunk.AsMemory(0, count), cancellation);
                // A Release region keeps writes in this process until a release: progress is saved only once they are out.
                await client.ReleaseAsync(cancellation);
                done = new TransferProgress(done.Elements + count, fileBytes);
                done.Save(path);
                progress.Report(done.Elements);
            }
            progress.Done();
            TransferProgress.Finish(path);
            if (json) JsonOption.Write(new { region = region.Name, file = path, format = format.ToString().ToLowerInvariant(), elements = total });
            else Console.WriteLine($"imported {Counted.Of(total, "element")} into '{region.Name}' from {path} ({format.ToString().ToLowerInvariant()})");
        }

        /// <summary>How many elements the file holds, once every one is known to be valid and to fit the region.</summary>
        private async Task<long> CheckAsync<T>(string typeName, long capacity) where T : unmanaged, INumber<T>
        {
            long count;
            if (format == TransferFormat.Raw)
            {
                var length = new FileInfo(path).Length;
                var size = Marshal.SizeOf<T>();
                if (length % size != 0)
                    throw new InvalidDataException($"'{path}' holds {length} bytes, not a whole number of {size}-byte {typeName} elements.");
                count = length / size;
            }
            else
            {
                count = 0;
                using var reader = new StreamReader(path);
                while (await reader.ReadLineAsync(cancellation) is { } line)
                {
                    TransferEncoding.ParseLine<T>(line, ++count, typeName);
                }
            }
            return count <= capacity
                ? count
                : throw new ArgumentException($"'{path}' holds {count} elements; region '{region.Name}' has room for {capacity}.");
        }

        /// <summary>The file's elements after those already imported, a chunk at a time, with the file bytes read through each.</summary>
        private async IAsyncEnumerable<(int Count, long FileBytes)> ReadChunksAsync<T>(T[] chunk, string typeName) where T : unmanaged, INumber<T>
        {
            if (format == TransferFormat.Raw)
            {
                await using var input = new FileStream(path, FileMode.Open, FileAccess.Read);
                input.Position = from.Elements * Marshal.SizeOf<T>();
                var bytes = MemoryMarshal.AsBytes(chunk.AsSpan()).Length;
                var buffer = new byte[bytes];
                int read;
                while ((read = await input.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellation)) > 0)
                {
                    buffer.AsSpan(0, read).CopyTo(MemoryMarshal.AsBytes(chunk.AsSpan()));
                    yield return (read / Marshal.SizeOf<T>(), input.Position);
                }
                yield break;
            }
            using var reader = new StreamReader(path);
            long line = 0;
            var filled = 0;
            while (await reader.ReadLineAsync(cancellation) is { } text)
            {
                // Lines already imported are skipped, not parsed into the region again.
                if (++line <= from.Elements) continue;
                chunk[filled++] = TransferEncoding.ParseLine<T>(text, line, typeName);
                if (filled < chunk.Length) continue;
                yield return (filled, 0);
                filled = 0;
            }
            if (filled > 0) yield return (filled, 0);
        }
    }
}
