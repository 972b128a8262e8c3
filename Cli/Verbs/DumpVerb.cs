using System.CommandLine;
using System.Numerics;
using OrleansDsm.Cli.Running;

namespace OrleansDsm.Cli.Verbs;

/// <summary>
/// <c>dsm dump NAME [--from I] [--count N]</c>: prints a stretch of elements, one "index value" line each, or for
/// byte regions a hex dump of 16 bytes a line. Read with the region's own consistency, a page at a time atomically.
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
        var command = new Command("dump", "Print a stretch of a region's elements (hex for uint8 and int8 regions).") { name, from, count };
        command.SetAction((parse, cancellation) => CliSession.RunAsync(parse, async (client, token) =>
        {
            var region = await client.DescribeAsync(parse.GetValue(name)!, token);
            var start = parse.GetValue(from);
            if (start < 0 || start > region.ElementCount)
                throw new ArgumentException($"--from {start} is outside region '{region.Name}' of {region.ElementCount} elements.");
            var length = parse.GetValue(count) ?? Math.Min(256, region.ElementCount - start);
            if (length < 0 || length > MaxCount)
                throw new ArgumentException($"--count {length} is not between 0 and {MaxCount}; use 'dsm export' for more.");
            if (length > region.ElementCount - start)
                throw new ArgumentException($"Elements [{start}, {start + length}) are not all inside region '{region.Name}' of {region.ElementCount} elements.");
            await ElementTypeDispatch.Run(region.ElementType, new Dump(client, region.Name, start, (int)length, parse.GetValue(JsonOption.Instance), token));
        }, cancellation));
        return command;
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
