using System.Diagnostics;
using Microsoft.Extensions.Options;
using OrleansDsm.Errors;
using OrleansDsm.Grains.Hosting;
using OrleansDsm.Grains.Regions;

namespace OrleansDsm.Tests.Regions;

/// <summary>
/// A silo's memory of which regions are live (<see cref="RegionLivenessCache"/>), against the test cluster's region
/// grains, with a lease of its own long enough to time: an answer in use is asked again before it runs out.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class RegionLivenessCacheTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task A_region_in_use_is_still_known_live_after_its_first_answers_lease()
    {
        var array = await fixture.Client.AllocateAsync<long>(UniqueNames.For("liveness-refresh"), 512);
        var (cache, sinceAsked) = (CacheWithLease(Lease), Stopwatch.StartNew());
        await cache.RequireLive(array.Region.Epoch, array.Region.FirstPage, CancellationToken.None);

        await Task.Delay(Lease * 0.8);
        Assert.True(cache.RequireLive(array.Region.Epoch, array.Region.FirstPage, CancellationToken.None).IsCompletedSuccessfully);
        await Task.Delay(Lease * 1.15 - sinceAsked.Elapsed);

        Assert.True(sinceAsked.Elapsed > Lease);
        Assert.True(cache.RequireLive(array.Region.Epoch, array.Region.FirstPage, CancellationToken.None).IsCompletedSuccessfully,
            "the answer should have been asked again, and replaced, before its lease ran out");
    }

    [Fact]
    public async Task A_region_freed_while_its_answer_holds_is_refused_once_the_answer_is_asked_again()
    {
        var array = await fixture.Client.AllocateAsync<long>(UniqueNames.For("liveness-freed"), 512);
        var (cache, sinceAsked) = (CacheWithLease(Lease * 2), Stopwatch.StartNew());
        await cache.RequireLive(array.Region.Epoch, array.Region.FirstPage, CancellationToken.None);
        await fixture.Client.FreeAsync(array.Name);

        // The first answer still holds here; asking now starts a second question, which finds the region freed.
        await Task.Delay(Lease * 1.55 - sinceAsked.Elapsed);
        Assert.True(cache.RequireLive(array.Region.Epoch, array.Region.FirstPage, CancellationToken.None).IsCompletedSuccessfully);
        await Task.Delay(Lease * 1.9 - sinceAsked.Elapsed);

        Assert.True(sinceAsked.Elapsed < Lease * 2, "the first answer should still hold, so only the second can refuse");
        await Assert.ThrowsAsync<RegionFreedException>(() =>
            cache.RequireLive(array.Region.Epoch, array.Region.FirstPage, CancellationToken.None).AsTask());
    }

    [Fact]
    public async Task A_page_outside_the_region_is_refused_by_name()
    {
        var array = await fixture.Client.AllocateAsync<long>(UniqueNames.For("liveness-outside"), 512);
        var cache = CacheWithLease(Lease);
        var outside = array.Region.FirstPage + array.Region.PageCount;

        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => cache.RequireLive(array.Region.Epoch, outside, CancellationToken.None).AsTask());
        Assert.Contains($"Page {outside}", error.Message);
        // A known region refuses it at once, from its answer.
        var again = Assert.Throws<ArgumentOutOfRangeException>(() => cache.RequireLive(array.Region.Epoch, outside, CancellationToken.None));
        Assert.Contains($"epoch {array.Region.Epoch}", again.Message);
    }

    private RegionLivenessCache CacheWithLease(TimeSpan lease) =>
        new(fixture.Cluster.Client, Options.Create(new AddressSpaceOptions { RegionLease = lease }));
}
