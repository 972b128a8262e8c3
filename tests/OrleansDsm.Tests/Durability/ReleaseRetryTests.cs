using OrleansDsm.Connection;
using OrleansDsm.Errors;
using OrleansDsm.Regions;
using OrleansDsm.Tests.Processes;
using static OrleansDsm.Tests.Fixtures.PostgresServer;

namespace OrleansDsm.Tests.Durability;

/// <summary>
/// A free that PostgreSQL fails, before the directory could store it or while its release runs, stands: the name is
/// gone, the caller is told what was left to do, and the cluster finishes the release by itself once the database
/// answers again, deleting the region's pages and giving its address range back.
/// </summary>
public sealed class ReleaseRetryTests
{
    [Fact]
    public async Task A_free_the_database_fails_stands_and_is_released_once_the_database_answers_again()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var database = await postgres.CreateDatabaseAsync("release_retry");
        await using var relay = TcpRelay.ToDatabase(database);
        // A 2 s region lease, so that the second free is still waiting it out when the link is cut; a serving lease
        // longer than the test, so that pages keep serving while it is.
        await using var silo = await SiloProcess.StartAsync("--Silo:Storage=PostgreSQL", $"--Silo:ConnectionString={relay.Relayed(database)}", "--Silo:Dashboard=false",
            "--Dsm:RegionLease=00:00:02", "--Dsm:ServingLease=00:02:00");
        await using var client = await DsmClient.ConnectAsync(new DsmClientOptions { Gateways = [silo.Gateway], RetryBudget = TimeSpan.FromSeconds(1) });
        var directory = client.Grains.GetGrain<IRegionDirectoryGrain>(0);
        var reservedBefore = (await directory.GetState()).ReservedBytes;
        var unstored = await client.AllocateAsync<long>("cut-before-free", 4096);
        var unreleased = await client.AllocateAsync<long>("cut-during-release", 4096);
        for (var page = 0; page < 8; page++)
        {
            await unstored.SetAsync(page * 512L, page + 1);
            await unreleased.SetAsync(page * 512L, page + 1);
        }
        Assert.Equal(16, await StoredPagesAsync(database));

        // Cut before the free: the directory cannot store it.
        relay.Cut();
        var notStored = await Assert.ThrowsAsync<StorageUnavailableException>(() => client.FreeAsync(unstored.Name));
        Assert.Contains("'cut-before-free' is freed, but the directory could not store that yet", notStored.Message);
        await Assert.ThrowsAsync<RegionNotFoundException>(() => client.OpenAsync<long>(unstored.Name));
        relay.Mend();
        await ReservedBecomesAsync(directory, reservedBefore + unreleased.Region.ReservedBytes);
        Assert.Equal(8, await StoredPagesAsync(database));

        // Cut while the release waits out the region lease, after its pages were released: the region's own record
        // cannot be deleted, and the call's retries within its budget fail too.
        var freeing = client.FreeAsync(unreleased.Name);
        await Task.Delay(TimeSpan.FromSeconds(1));
        relay.Cut();
        var notReleased = await Assert.ThrowsAsync<StorageUnavailableException>(() => freeing);
        Assert.Contains("'cut-during-release' is freed, but releasing it has not finished", notReleased.Message);
        relay.Mend();
        await ReservedBecomesAsync(directory, reservedBefore);
        Assert.Equal(0, await StoredPagesAsync(database));
        await Assert.ThrowsAsync<RegionFreedException>(() => unreleased.GetAsync(0).AsTask());
        var again = await client.AllocateAsync<long>(unreleased.Name, 4096);
        Assert.Equal(0, await again.GetAsync(512));
        Assert.Contains("is tried again", silo.Output);
    }

    /// <summary>Waits, at most 30 s, until the directory reserves <paramref name="bytes"/>: the releases under way have ended.</summary>
    private static async Task ReservedBecomesAsync(IRegionDirectoryGrain directory, long bytes)
    {
        var patience = System.Diagnostics.Stopwatch.StartNew();
        long reserved;
        while ((reserved = (await directory.GetState()).ReservedBytes) != bytes && patience.Elapsed < TimeSpan.FromSeconds(30))
            await Task.Delay(200);
        Assert.Equal(bytes, reserved);
    }
}
