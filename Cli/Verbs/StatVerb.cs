using System.CommandLine;
using OrleansDsm.Cli.Running;

namespace OrleansDsm.Cli.Verbs;

/// <summary>
/// <c>dsm stat NAME [--pages N]</c>: a region's size, the pages it has touched and stored, its most written pages, and
/// the silos its pages are active on.
/// </summary>
internal static class StatVerb
{
    public static Command Create()
    {
        var name = RegionArguments.Name();
        var pages = new Option<int>("--pages")
        {
            Description = "Examine at most this many touched pages (the lowest); each is asked for its state.",
            DefaultValueFactory = _ => 100_000,
            CustomParser = WholeNumberParser.Parse<int>,
        };
        var command = new Command("stat", "Show a region's size, pages touched, bytes stored, most written pages and the silos they are active on.") { name, pages };
        command.SetAction((parse, cancellation) => CliSession.RunAsync(parse, async (client, token) =>
        {
            if (parse.GetValue(pages) < 1) throw new ArgumentException($"--pages {parse.GetValue(pages)} must be at least 1.");
            var stat = await client.StatAsync(parse.GetValue(name)!, parse.GetValue(pages), token);
            var region = stat.Region;
            var hot = stat.HotPages.Select(page => new { page = page.PageNumber, version = page.Version, firstBytes = page.FirstBytes }).ToArray();
            if (parse.GetValue(JsonOption.Instance))
            {
                JsonOption.Write(new
                {
                    region = region.Name, type = region.ElementType, length = region.ElementCount, bytes = region.ByteLength,
                    consistency = region.Consistency.ToString(), pageSize = region.PageSize, pages = region.PageCount,
                    pagesTouched = stat.PagesTouched, pagesExamined = stat.PagesExamined, pagesStored = stat.PagesStored,
                    bytesStored = stat.BytesStored, hotPages = hot, pagesBySilo = stat.PagesBySilo,
                });
                return;
            }
            Console.WriteLine($"region       {region.Name} ({region.ElementType} x {region.ElementCount}, {region.Consistency})");
            Console.WriteLine($"size         {Counted.Of(region.ByteLength, "byte")} in {Counted.Of(region.PageCount, "page")} of {region.PageSize} bytes");
            Console.WriteLine($"touched      {Counted.Of(stat.PagesTouched, "page")}");
            Console.WriteLine($"stored       {Counted.Of(stat.PagesStored, "page")}, {Counted.Of(stat.BytesStored, "byte")}{(stat.PagesExamined < stat.PagesTouched ? $" (of the {Counted.Of(stat.PagesExamined, "page")} examined)" : "")}");
            foreach (var page in hot) Console.WriteLine($"hot page     {page.page}: version {page.version}, first bytes {page.firstBytes}");
            foreach (var (silo, count) in stat.PagesBySilo) Console.WriteLine($"on silo      {silo}: {Counted.Of(count, "page")}");
        }, cancellation));
        return command;
    }
}
