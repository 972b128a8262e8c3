using CsCheck;
using OrleansDsm.Grains.Regions;

namespace OrleansDsm.Tests.Units;

public sealed class PageSetTests
{
    [Fact]
    public void Behaves_like_a_set_of_pages_and_keeps_runs_merged()
    {
        Gen.Long[0, 200].Array[0, 300].Sample(pages =>
        {
            var set = new PageSet();
            var model = new SortedSet<long>();
            foreach (var page in pages) Assert.Equal(model.Add(page), set.Add(page));

            Assert.Equal(model, set.Pages());
            Assert.All(Enumerable.Range(-1, 203), first => Assert.Equal(model.Where(page => page >= first), set.PagesFrom(first)));
            Assert.Equal(model.Count, set.Count);
            Assert.All(Enumerable.Range(0, 201), page => Assert.Equal(model.Contains(page), set.Contains(page)));
            // No two runs touch: each gap between runs is at least one page.
            for (var i = 1; i < set.Starts.Count; i++) Assert.True(set.Starts[i] > set.Ends[i - 1]);
        });
    }

    [Fact]
    public void A_sequential_fill_is_one_run()
    {
        var set = new PageSet();
        for (long page = 1000; page < 101_000; page++) set.Add(page);
        Assert.Single(set.Starts);
        Assert.Equal(100_000, set.Count);
    }
}
