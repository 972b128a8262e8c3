using System.CommandLine;
using System.Numerics;
using OrleansDsm.Cli.Running;

namespace OrleansDsm.Cli.Verbs;

/// <summary>
/// <c>dsm dump NAME [--from I] [--count N]</c>: prints a stretch of elements, one "index value" line each, or for
/// byte regions a hex dump of 16 bytes a line, or for regions of other types (bool, char, an app's own structs) each
/// element's bytes in hex. Read with the region's own consistency, a page at a time atomically.
/// </summary>
internal static class DumpVerb
{
    /// <summary>What one dump prints at most: beyond it, <c>dsm export</c> is the tool.</summary>
    private const int MaxCount = 1 << 20;

    public static Command Create()
    {
        var name = RegionArguments.Name();
        var from = new Option<long>("--from") { Description = "The first element to print.", DefaultValueFactory = _ => 0, CustomParser = WholeNumberParser.Parse<long> };
        var count = new Option<long?>("--count") { Description = $"How many elements to print (default: up to 256; at most {MaxCount}).", CustomParser = WholeNumberParser.ParseOptional<long> };
        var command = new Command("dump", "Print a stretch of a region's elements (hex for uint8 and int8 regions, and each element's bytes for other types).") { name, from, count };
        command.SetAction((parse, cancellation) => CliSession.RunAsync(parse, async (client, token) =>
        {
            var region = await client.DescribeAsync(parse.GetValue(name)!, token);
            var start = parse.GetValue(from);
            if (start < 0 || start > region.ElementCount)
                throw new ArgumentException($"--from {start} is outside region '{region.Name}' of {region.ElementCount} elements.");
            var length = parse.GetValue(count) ?? Math.Min(256, region.ElementCount - start);
            if (length < 0 || length > MaxCount)
                throw new ArgumentException($"--count {length} is not between 0 and {MaxCount}; use 'dsm export' for more.");
            // The largest numeric dump's bytes (2^20 int64 elements) bound a dump of larger elements too.
            if (length * region.ElementSize > MaxCount * 8L)
                throw new ArgumentException($"--count {length} of {region.ElementSize}-byte elements is more than a dump prints ({MaxCount * 8L} bytes); dump a shorter stretch.");
            if (length > region.ElementCount - start)
                throw new ArgumentException($"Elements [{start}, {start + length}) are not all inside region '{region.Name}' of {region.ElementCount} elements.");
            var json = parse.GetValue(JsonOption.Instance);
            if (ElementTypeDispatch.Handles(region.ElementType)) await ElementTypeDispatch.Run(region.ElementType, new Dump(client, region.Name, start, (int)length, json, token));
            else await DumpElementBytesAsync(client, region, start, (int)length, json, token);
        }, cancellation));
        return command;
    }

    /// <summary>A region of a type the tool cannot print as numbers: each element's bytes, in hex, as the region holds them.</summary>
    private static async Task DumpElementBytesAsync(DsmClient client, Regions.RegionDescriptor region, long from, int count, bool json, CancellationToken cancellation)
    {
        var bytes = new byte[(long)count * region.ElementSize];
        await client.ReadAsync(region.BaseAddress + from * region.ElementSize, bytes, cancellation);
        var elements = Enumerable.Range(0, count).Select(i => Convert.ToHexStringLower(bytes, i * region.ElementSize, region.ElementSize)).ToArray();
        if (json) JsonOption.Write(new { region = region.Name, type = region.ElementType, from, count, elementBytes = elements });
        else for (var i = 0; i < count; i++) Console.WriteLine($"{from + i} {elements[i]}");
    }

    private sealed class Dump(DsmClient client, string name, long from, int count, bool json, CancellationToken cancellation) : INumericVerb
    {
        public async Task Run<T>(string typeName) where T : unmanaged, INumber<T>
        {
            var array = await client.OpenAsync<T>(name, cancellation);
            var values = new T[count];
            await array.ReadAsync(from, values, cancellation);
            var bytes = typeof(T) == typeof(byte) || typeof(T) == typeof(sbyte);
            if (json)
            {
                if (bytes) JsonOption.Write(new { region = name, type = typeName, from, count, hex = Convert.ToHexStringLower(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())) });
                else JsonOption.Write(new { region = name, type = typeName, from, count, values = values.Select(ElementTypeDispatch.Format).ToArray() });
                return;
            }
            if (!bytes)
            {
                for (var i = 0; i < count; i++) Console.WriteLine($"{from + i} {ElementTypeDispatch.Format(values[i])}");
                return;
            }
            var raw = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
            for (var line = 0; line < raw.Length; line += 16)
            {
                var part = raw.AsSpan(line, Math.Min(16, raw.Length - line));
                Console.WriteLine($"{from + line:x12}  {string.Join(' ', part.ToArray().Select(b => b.ToString("x2")))}");
            }
        }
    }
}
