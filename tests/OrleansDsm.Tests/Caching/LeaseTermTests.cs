namespace OrleansDsm.Tests.Caching;

/// <summary>
/// A session whose lease ended on a silo has been forgotten by that silo's pages: writes no longer revoke its copies.
/// Renewing afterwards starts a new term, and must not bring the old copies back.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class LeaseTermTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_renewal_after_the_lease_ended_does_not_revive_copies_a_write_skipped()
    {
        await using var readerClient = new DsmClient(fixture.Cluster.Client);
        await using var writerClient = new DsmClient(fixture.Cluster.Client);
        var name = UniqueNames.For("lease-term");
        var reader = await readerClient.AllocateAsync<long>(name, 512);
        var writer = await writerClient.OpenAsync<long>(name);
        Assert.Equal(0, await reader.GetAsync(0)); // cached, and renewed through this page
        var session = readerClient.CacheSession!.Value;

        ClusterFixture.RenewalsRefused[session] = 0;
        try
        {
            await Task.Delay(ClusterFixture.CacheLease * 2); // the lease ends, on the silo and on the client
            await writer.SetAsync(0, 42); // the page skips the reader: its lease has ended
        }
        finally
        {
            ClusterFixture.RenewalsRefused.TryRemove(session, out _);
        }

        var renewals = readerClient.Cache!.Metrics.Renewals;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (readerClient.Cache.Metrics.Renewals == renewals && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.True(readerClient.Cache.Metrics.Renewals > renewals, "the reader renewed again once renewals got through");

        Assert.Equal(42, await reader.GetAsync(0));
    }
}
