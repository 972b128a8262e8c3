using System.CommandLine;
using System.Numerics;
using OrleansDsm.Cli.Running;

namespace OrleansDsm.Cli.Verbs;

/// <summary><c>dsm add NAME INDEX DELTA</c>: atomically adds and prints the new value.</summary>
internal static class AddVerb
{
    // The element types the cluster adds atomically, in the tool's names (the pages' own list, whose names are the tool's
    // capitalized); the client's refusal of the others names .NET types.
    private static readonly string[] Addable = [.. Enum.GetNames<Pages.NumericKind>().Select(kind => kind.ToLowerInvariant())];

    public static Command Create()
    {
        var name = RegionArguments.Name();
        var index = RegionArguments.Index();
        var delta = new Argument<string>("delta") { Description = "The amount to add, in the region's element type." };
        var command = new Command("add", "Atomically add to one element and print the new value.") { name, index, delta };
        command.SetAction((parse, cancellation) => CliSession.RunAsync(parse, async (client, token) =>
        {
            var region = await client.DescribeAsync(parse.GetValue(name)!, token);
            if (!Addable.Contains(region.ElementType))
                throw new NotSupportedException($"add works on {string.Join(", ", Addable)} regions; '{region.Name}' holds {region.ElementType}.");
            await ElementTypeDispatch.Run(region.ElementType, new Addition(client, region.Name, parse.GetValue(index), parse.GetValue(delta)!, parse.GetValue(JsonOption.Instance), token));
        }, cancellation));
        return command;
    }

    private sealed class Addition(DsmClient client, string name, long index, string text, bool json, CancellationToken cancellation) : INumericVerb
    {
        public async Task Run<T>(string typeName) where T : unmanaged, INumber<T>
        {
            var delta = ElementTypeDispatch.Parse<T>(text, typeName);
            var array = await client.OpenAsync<T>(name, cancellation);
            ElementOutput.Print(name, index, await array.AddAsync(index, delta, cancellation), json);
        }
    }
}
