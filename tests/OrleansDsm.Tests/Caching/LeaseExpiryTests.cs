using OrleansDsm.Connection;
using OrleansDsm.Tests.Processes;

namespace OrleansDsm.Tests.Caching;

/// <summary>A client that can no longer renew its lease stops serving cached copies when the lease ends.</summary>
public sealed class LeaseExpiryTests
{
    [Fact]
    public async Task Cached_reads_stop_when_the_silo_is_gone_and_the_lease_has_run_out()
    {
        var silo = await SiloProcess.StartAsync("--Dsm:CacheLease=00:00:05");
        await using var client = await DsmClient.ConnectAsync(new DsmClientOptions { Gateways = [silo.Gateway], ConnectTimeout = TimeSpan.FromSeconds(20) });
        var array = await client.AllocateAsync<int>("lease-expiry", 1024);
        await array.SetAsync(5, 55);
        Assert.Equal(55, await array.GetAsync(5));

        await silo.DisposeAsync(); // killed: no revocation, no renewal from now on
        var servedFromCache = array.GetAsync(5);
        Assert.True(servedFromCache.IsCompletedSuccessfully, "right after the kill, the lease still covers the copy");
        Assert.Equal(55, await servedFromCache);

        // The lease is long enough that a kill slowed by a loaded machine still finds the copy covered: renewed every
        // half lease, and valid from each renewal for the lease less a tenth (the drift margin), the copy had at least
        // 2 s left when the kill began.
        await Task.Delay(TimeSpan.FromMilliseconds(5300));
        using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var afterLease = array.GetAsync(5, bounded.Token);
        Assert.False(afterLease.IsCompleted, "after the lease, the read must go to the (dead) silo instead of the cache");
        await Assert.ThrowsAnyAsync<Exception>(() => afterLease.AsTask());
    }
}
