using System.CommandLine;
using System.Numerics;
using OrleansDsm.Cli.Running;

namespace OrleansDsm.Cli.Verbs;

/// <summary>
/// <c>dsm alloc NAME --type T --length N [--consistency C]</c>: allocates a zeroed region and prints the owner token
/// that frees it.
/// </summary>
internal static class AllocVerb
{
    public static Command Create()
    {
        var name = RegionArguments.Name();
        var type = new Option<string>("--type")
        {
            Description = "The element type.",
            Required = true,
        }.AcceptOnlyFromAmong(ElementTypeDispatch.Names);
        var length = new Option<long>("--length") { Description = "How many elements.", Required = true, CustomParser = WholeNumberParser.Parse<long> };
        var consistency = new Option<Regions.Consistency?>("--consistency")
        {
            Description = $"The region's memory model (default strict): {ConsistencyParser.Forms}.",
            HelpName = "model",
            CustomParser = ConsistencyParser.Parse,
        };
        var command = new Command("alloc", "Allocate a new region of zeroed elements; prints the owner token that frees it (keep it: it is shown once).") { name, type, length, consistency };
        command.SetAction((parse, cancellation) => CliSession.RunAsync(parse, async (client, token) =>
        {
            var region = parse.GetValue(name)!;
            await ElementTypeDispatch.Run(parse.GetValue(type)!, new Allocation(client, region, parse.GetValue(length), parse.GetValue(consistency), parse.GetValue(JsonOption.Instance), token));
        }, cancellation));
        return command;
    }

    private sealed class Allocation(DsmClient client, string name, long length, Regions.Consistency? consistency, bool json, CancellationToken cancellation) : INumericVerb
    {
        public async Task Run<T>(string typeName) where T : unmanaged, INumber<T>
        {
            var array = await client.AllocateAsync<T>(name, length, consistency, cancellation);
            var model = array.Region.Consistency.ToString();
            if (json)
            {
                JsonOption.Write(new { region = name, type = typeName, length, consistency = model, address = array.Region.BaseAddress.ToString(), ownerToken = array.OwnerToken });
                return;
            }
            Console.WriteLine($"allocated {array} ({model})");
            // The one time the token is shown: freeing the region from any other process needs it.
            Console.WriteLine($"owner token: {array.OwnerToken}");
        }
    }
}
