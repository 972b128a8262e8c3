using System.CommandLine;
using System.Numerics;
using OrleansDsm.Cli.Running;

namespace OrleansDsm.Cli.Verbs;

/// <summary><c>dsm get NAME INDEX</c>: prints the element's value alone (see <see cref="ElementOutput"/>).</summary>
internal static class GetVerb
{
    public static Command Create()
    {
        var name = RegionArguments.Name();
        var index = RegionArguments.Index();
        var command = new Command("get", "Print one element's value.") { name, index };
        command.SetAction((parse, cancellation) => CliSession.RunAsync(parse, async (client, token) =>
        {
            var region = await client.DescribeAsync(parse.GetValue(name)!, token);
            await ElementTypeDispatch.Run(region.ElementType, new Read(client, region.Name, parse.GetValue(index), parse.GetValue(JsonOption.Instance), token));
        }, cancellation));
        return command;
    }

    private sealed class Read(DsmClient client, string name, long index, bool json, CancellationToken cancellation) : INumericVerb
    {
        public async Task Run<T>(string typeName) where T : unmanaged, INumber<T>
        {
            var array = await client.OpenAsync<T>(name, cancellation);
            ElementOutput.Print(name, index, await array.GetAsync(index, cancellation), json);
        }
    }
}
