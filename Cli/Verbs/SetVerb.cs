using System.CommandLine;
using System.Numerics;
using OrleansDsm.Cli.Running;

namespace OrleansDsm.Cli.Verbs;

/// <summary><c>dsm set NAME INDEX VALUE</c>: writes one element.</summary>
internal static class SetVerb
{
    public static Command Create()
    {
        var name = RegionArguments.Name();
        var index = RegionArguments.Index();
        var value = new Argument<string>("value") { Description = "The value, in the region's element type." };
        var command = new Command("set", "Write one element.") { name, index, value };
        command.SetAction((parse, cancellation) => CliSession.RunAsync(parse, async (client, token) =>
        {
            var region = await client.DescribeAsync(parse.GetValue(name)!, token);
            await ElementTypeDispatch.Run(region.ElementType, new Write(client, region.Name, parse.GetValue(index), parse.GetValue(value)!, parse.GetValue(JsonOption.Instance), token));
        }, cancellation));
        return command;
    }

    private sealed class Write(DsmClient client, string name, long index, string text, bool json, CancellationToken cancellation) : INumericVerb
    {
        public async Task Run<T>(string typeName) where T : unmanaged, INumber<T>
        {
            var value = ElementTypeDispatch.Parse<T>(text, typeName);
            var array = await client.OpenAsync<T>(name, cancellation);
            await array.SetAsync(index, value, cancellation);
            // Text prints nothing, as a write should; a script asking for JSON gets a document saying what was written.
            if (json) ElementOutput.Print(name, index, value, json);
        }
    }
}
