using System.Diagnostics;
using OrleansDsm.Connection;
using OrleansDsm.Tests.Processes;

namespace OrleansDsm.Tests.Regions;

/// <summary>
/// A free whose release outlasts one call (many written pages to delete, or a long region lease to wait out) still
/// returns only once the release is done, in calls that each answer within the client's response timeout; and a free
/// asked to wait for longer than a call may is refused before it changes anything.
/// </summary>
public sealed class LongReleaseTests
{
    [Fact]
    public async Task A_free_that_outlasts_the_response_timeout_returns_once_the_region_is_released()
    {
        // Freeing waits out the region lease (3 s, and a tenth) after marking the region freed: longer than a call
        // of a client whose response timeout is 2 s may last.
        await using var silo = await SiloProcess.StartAsync("--Dsm:RegionLease=00:00:03");
        await using var client = await DsmClient.ConnectAsync(new DsmClientOptions
        {
            Gateways = [silo.Gateway], ConnectTimeout = TimeSpan.FromSeconds(30), ResponseTimeout = TimeSpan.FromSeconds(2),
        });
        var array = await client.AllocateAsync<long>(UniqueNames.For("long-release"), 4096);
        await array.SetAsync(4095, 7);

        var freeing = Stopwatch.StartNew();
        await client.FreeAsync(array.Name);

        Assert.True(freeing.Elapsed >= TimeSpan.FromSeconds(3), $"the free returned after {freeing.Elapsed.TotalSeconds:0.0} s, before the lease was waited out");
        await Assert.ThrowsAsync<RegionFreedException>(() => array.GetAsync(4095).AsTask());
        Assert.True(await client.Grains.GetGrain<IRegionDirectoryGrain>(0).WaitReleased(array.Region.Epoch, TimeSpan.Zero), "the release should be done");
        var again = await client.AllocateAsync<long>(array.Name, 4096);
        Assert.Equal(0, await again.GetAsync(4095));
    }

    [Fact]
    public async Task A_free_asked_to_wait_past_a_minute_a_call_is_refused_and_changes_nothing()
    {
        await using var silo = await SiloProcess.StartAsync();
        await using var client = await silo.ConnectAsync();
        var array = await client.AllocateAsync<long>(UniqueNames.For("refused-wait"), 512);
        await array.SetAsync(1, 5);
        var directory = client.Grains.GetGrain<IRegionDirectoryGrain>(0);

        var tooLong = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => directory.Free(array.Name, array.OwnerToken, TimeSpan.FromMinutes(2)));
        var negative = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => directory.WaitReleased(array.Region.Epoch, TimeSpan.FromSeconds(-1)));

        Assert.Contains("1 minute", tooLong.Message);
        Assert.Contains("1 minute", negative.Message);
        Assert.Equal(array.Region, await directory.Open(array.Name));
        Assert.Equal(5, await array.GetAsync(1));
    }
}
