using System.CommandLine;
using System.Numerics;
using OrleansDsm.Cli.Running;

namespace OrleansDsm.Cli.Verbs;

/// <summary>
/// <c>dsm watch NAME INDEX</c>: prints the element's value, then its value after each change, until interrupted,
/// <c>--changes</c> changes have been printed, or <c>--for</c> has passed. It waits on the page (no polling); changes
/// in quick succession may show as one, since each line is the value read after a change was seen.
/// </summary>
internal static class WatchVerb
{
    public static Command Create()
    {
        var name = RegionArguments.Name();
        var index = RegionArguments.Index();
        var changes = new Option<int?>("--changes") { Description = "Stop after printing this many changes.", CustomParser = WholeNumberParser.ParseOptional<int> };
        var duration = new Option<TimeSpan?>("--for") { Description = $"Stop after this long ({DurationParser.Forms}).", CustomParser = DurationParser.Parse };
        var command = new Command("watch", "Print an element's value and then its value after every change, until stopped.") { name, index, changes, duration };
        command.SetAction((parse, cancellation) => CliSession.RunAsync(parse, async (client, token) =>
        {
            if (parse.GetValue(changes) is < 1) throw new ArgumentException($"--changes {parse.GetValue(changes)} must be at least 1.");
            var region = await client.DescribeAsync(parse.GetValue(name)!, token);
            var watch = new Watch(client, region.Name, parse.GetValue(index), parse.GetValue(changes), parse.GetValue(duration), parse.GetValue(JsonOption.Instance), token);
            await ElementTypeDispatch.Run(region.ElementType, watch);
        }, cancellation));
        return command;
    }

    private sealed class Watch(DsmClient client, string name, long index, int? changes, TimeSpan? duration, bool json, CancellationToken cancellation) : INumericVerb
    {
        public async Task Run<T>(string typeName) where T : unmanaged, INumber<T>
        {
            var array = await client.OpenAsync<T>(name, cancellation);
            var deadline = duration is { } limit ? DateTimeOffset.UtcNow + limit : DateTimeOffset.MaxValue;
            var value = await array.GetAsync(index, cancellation);
            Print(value);
            for (var seen = 0; changes is null || seen < changes; )
            {
                var left = deadline == DateTimeOffset.MaxValue ? TimeSpan.FromHours(1) : deadline - DateTimeOffset.UtcNow;
                if (left <= TimeSpan.Zero) return;
                // A wait that ends without a change goes round again: the deadline, if any, is checked above.
                if (!await array.WaitForChangeAsync(index, value, left, cancellation)) continue;
                value = await array.GetAsync(index, cancellation);
                Print(value);
                seen++;
            }
        }

        private void Print<T>(T value) where T : INumber<T>
        {
            if (json) JsonOption.Write(new { region = name, index, value = ElementTypeDispatch.Format(value), time = DateTimeOffset.UtcNow });
            else Console.WriteLine(ElementTypeDispatch.Format(value));
            Console.Out.Flush();
        }
    }
}
