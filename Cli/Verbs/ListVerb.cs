using System.CommandLine;
using OrleansDsm.Cli.Running;

namespace OrleansDsm.Cli.Verbs;

/// <summary><c>dsm ls</c>: one line per region, or with <c>--json</c> one document listing them.</summary>
internal static class ListVerb
{
    public static Command Create()
    {
        var command = new Command("ls", "List the regions: name, type, length, bytes, base address, consistency.");
        command.SetAction((parse, cancellation) => CliSession.RunAsync(parse, async (client, token) =>
        {
            var regions = await client.ListAsync(token);
            if (parse.GetValue(JsonOption.Instance))
            {
                JsonOption.Write(new
                {
                    regions = regions.Select(region => new
                    {
                        name = region.Name, type = region.ElementType, length = region.ElementCount, bytes = region.ByteLength,
                        address = region.BaseAddress.ToString(), consistency = region.Consistency.ToString(),
                    }),
                });
                return;
            }
            // As wide as the longest name and type (up to 128 characters, or an app's own type's full name), so columns stay columns.
            var nameWidth = regions.Select(region => region.Name.Length).Append(24).Max();
            var typeWidth = regions.Select(region => region.ElementType.Length).Append(8).Max();
            Console.WriteLine($"{"NAME".PadRight(nameWidth)} {"TYPE".PadRight(typeWidth)} {"LENGTH",14} {"BYTES",16} {"ADDRESS",-20} MODE");
            foreach (var region in regions)
                Console.WriteLine($"{region.Name.PadRight(nameWidth)} {region.ElementType.PadRight(typeWidth)} {region.ElementCount,14} {region.ByteLength,16} {region.BaseAddress,-20} {region.Consistency}");
        }, cancellation));
        return command;
    }
}
