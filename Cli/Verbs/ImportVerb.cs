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
            var import = new Import(client, region, path, from, parse.GetValue(JsonOption.Instance), token);
            // Raw bytes are what the region holds, whatever its type; CSV needs values the tool can parse.
            if (TransferOptions.FormatFor(parse.GetValue(format), path) == TransferFormat.Raw) await import.RunAsync(TransferFormat.Raw, import.CountRaw(), import.ReadRawChunksAsync);
            else await ElementTypeDispatch.Run(TransferOptions.CsvType(region), import);
        }, cancellation));
        return command;
    }

    private sealed class Import(DsmClient client, Regions.RegionDescriptor region, string path, TransferProgress from, bool json, CancellationToken cancellation) : INumericVerb
    {
        public async Task Run<T>(string typeName) where T : unmanaged, INumber<T> =>
            await RunAsync(TransferFormat.Csv, await CountCsvAsync<T>(typeName), chunk => ReadCsvChunksAsync<T>(chunk, typeName));

        /// <summary>
        /// Writes the file's elements after those already imported, as <paramref name="chunks"/> reads them into a
        /// buffer of the region's bytes, once <paramref name="total"/> (every element in the file) is known to fit.
        /// </summary>
        public async Task RunAsync(TransferFormat format, long total, Func<byte[], IAsyncEnumerable<(int Count, long FileBytes)>> chunks)
        {
            if (total > region.ElementCount)
                throw new ArgumentException($"'{path}' holds {total} elements; region '{region.Name}' has room for {region.ElementCount}.");
            if (from.Elements > total)
                throw new InvalidDataException($"{TransferProgress.PathFor(path)} records {from.Elements} elements, more than '{path}' holds; delete it and import again.");
            var progress = new ProgressBar($"import {region.Name}", total);
            var chunk = new byte[(long)TransferOptions.ChunkElements(region.ElementSize) * region.ElementSize];
            var done = from;
            await foreach (var (count, fileBytes) in chunks(chunk))
            {
                // Byte writes go to the pages at once, in a Release region too (no release buffer): once this returns, the
                // chunk is in, and its progress can be saved.
                await client.WriteAsync(region.BaseAddress + done.Elements * region.ElementSize, chunk.AsMemory(0, count * region.ElementSize), cancellation);
                done = new TransferProgress(done.Elements + count, fileBytes);
                done.Save(path);
                progress.Report(done.Elements);
            }
            progress.Done();
            TransferProgress.Finish(path);
            var name = format.ToString().ToLowerInvariant();
            if (json) JsonOption.Write(new { region = region.Name, file = path, format = name, elements = total });
            else Console.WriteLine($"imported {Counted.Of(total, "element")} into '{region.Name}' from {path} ({name})");
        }

        /// <summary>How many elements a raw file holds: its length in the region's elements, which must be whole.</summary>
        public long CountRaw()
        {
            var length = new FileInfo(path).Length;
            return length % region.ElementSize == 0
                ? length / region.ElementSize
                : throw new InvalidDataException($"'{path}' holds {length} bytes, not a whole number of {region.ElementSize}-byte {region.ElementType} elements.");
        }

        /// <summary>The raw file's bytes after those already imported, a chunk at a time, with the file bytes read through each.</summary>
        public async IAsyncEnumerable<(int Count, long FileBytes)> ReadRawChunksAsync(byte[] chunk)
        {
            await using var input = new FileStream(path, FileMode.Open, FileAccess.Read);
            input.Position = from.Elements * region.ElementSize;
            int read;
            while ((read = await input.ReadAtLeastAsync(chunk, chunk.Length, throwOnEndOfStream: false, cancellation)) > 0)
                yield return (read / region.ElementSize, input.Position);
        }

        /// <summary>How many values a CSV file holds, once every one is known to parse.</summary>
        private async Task<long> CountCsvAsync<T>(string typeName) where T : unmanaged, INumber<T>
        {
            long count = 0;
            using var reader = new StreamReader(path);
            while (await reader.ReadLineAsync(cancellation) is { } line)
                TransferEncoding.ParseLine<T>(line, ++count, typeName);
            return count;
        }

        /// <summary>The CSV file's values after those already imported, parsed into the chunk a chunk at a time.</summary>
        private async IAsyncEnumerable<(int Count, long FileBytes)> ReadCsvChunksAsync<T>(byte[] chunk, string typeName) where T : unmanaged, INumber<T>
        {
            using var reader = new StreamReader(path);
            long line = 0;
            var filled = 0;
            var capacity = chunk.Length / region.ElementSize;
            while (await reader.ReadLineAsync(cancellation) is { } text)
            {
                // Lines already imported are skipped, not parsed into the region again.
                if (++line <= from.Elements) continue;
                MemoryMarshal.Cast<byte, T>(chunk.AsSpan())[filled++] = TransferEncoding.ParseLine<T>(text, line, typeName);
                if (filled < capacity) continue;
                yield return (filled, 0);
                filled = 0;
            }
            if (filled > 0) yield return (filled, 0);
        }
    }
}
