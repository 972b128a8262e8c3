using CsCheck;
using OrleansDsm.Grains.Regions;

namespace OrleansDsm.Tests.Units;

public sealed class AddressRangeAllocatorTests
{
    [Fact]
    public void Taken_ranges_never_overlap_and_everything_given_back_merges_into_one_run()
    {
        Gen.Select(Gen.Long[1, 50], Gen.Bool).Array[1, 60].Sample(steps =>
        {
            var allocator = AddressRangeAllocator.ForPageSize(4096);
            var taken = new List<PageRun>();
            foreach (var (pages, giveBack) in steps)
            {
                if (giveBack && taken.Count > 0)
                {
                    allocator.Give(taken[0].Start, taken[0].Count);
                    taken.RemoveAt(0);
                }
                var start = allocator.Take(pages);
                Assert.NotNull(start);
                Assert.True(start >= 1, "page 0 is never handed out");
                var run = new PageRun(start.Value, pages);
                Assert.DoesNotContain(taken, other => run.Start < other.End && other.Start < run.End);
                taken.Add(run);
            }
            foreach (var run in taken) allocator.Give(run.Start, run.Count);
            Assert.Equal([new PageRun(1, AddressRangeAllocator.EndPage(4096) - 1)], allocator.Free);
        });
    }

    [Fact]
    public void A_request_larger_than_the_space_gets_nothing()
    {
        var allocator = AddressRangeAllocator.ForPageSize(1 << 20);
        Assert.Null(allocator.Take(AddressRangeAllocator.EndPage(1 << 20)));
    }
}
