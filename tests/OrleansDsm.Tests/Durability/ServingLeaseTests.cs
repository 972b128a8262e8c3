using OrleansDsm.Connection;
using OrleansDsm.Errors;
using OrleansDsm.Regions;
using OrleansDsm.Tests.Processes;

namespace OrleansDsm.Tests.Durability;

/// <summary>
/// A silo that loses PostgreSQL, which decides membership, loses its serving lease: within one lease it stops
/// serving reads, writes and cache renewals, so no client gets a possibly stale answer from it, cached or not, and a
/// refused write changes nothing. With the link back, it serves again with nothing lost.
/// </summary>
public sealed class ServingLeaseTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task A_silo_cut_off_from_PostgreSQL_stops_serving_within_its_lease_and_serves_again_once_mended()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var database = await postgres.CreateDatabaseAsync("serving");
        await using var relay = TcpRelay.ToDatabase(database);
        await using var silo = await SiloProcess.StartAsync("--Silo:Storage=PostgreSQL", $"--Silo:ConnectionString={relay.Relayed(database)}", "--Silo:Dashboard=false",
            $"--Dsm:ServingLease={Lease}", $"--Dsm:CacheLease={Lease}");
        await using var client = await DsmClient.ConnectAsync(new DsmClientOptions { Gateways = [silo.Gateway], RetryBudget = TimeSpan.FromSeconds(1) });
        var plain = await client.AllocateAsync<long>("plain", 512, Consistency.Uncached);
        var cached = await client.AllocateAsync<long>("cached", 512);
        await plain.SetAsync(0, 7);
        await cached.SetAsync(0, 8);
        Assert.True(await ServedFromCacheAsync(cached, client), "the cached region never served a read from its cache before the cut");

        relay.Cut();
        await Task.Delay(Lease * 1.5);

        var read = await Assert.ThrowsAsync<SiloNotServingException>(() => plain.GetAsync(0).AsTask());
        Assert.Contains("serving lease", read.Message);
        // The cached copy lapsed with the lease its silo could no longer renew, and the refill is refused.
        await Assert.ThrowsAsync<SiloNotServingException>(() => cached.GetAsync(0).AsTask());
        await Assert.ThrowsAsync<SiloNotServingException>(() => plain.SetAsync(0, 9));
        Assert.False(silo.HasExited, silo.Output);

        relay.Mend();
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.Equal(7, await EventuallyAsync(() => plain.GetAsync(0).AsTask(), patience.Token));
        Assert.Equal(8, await EventuallyAsync(() => cached.GetAsync(0).AsTask(), patience.Token));
        Assert.Contains("Serving lease not renewed", silo.Output);
    }

    /// <summary>
    /// Whether a read of element 0 was answered from the cache within ten reads. A grant is cut to what is left of the
    /// silo's serving lease, so on a loaded machine a renewal of that lease that came late can leave a copy too short
    /// a lease to outlast the next read; a later fill, granted after a renewal, serves.
    /// </summary>
    private static async Task<bool> ServedFromCacheAsync(SharedArray<long> cached, DsmClient client)
    {
        for (var read = 0; read < 10; read++)
        {
            var hits = client.Cache!.Metrics.Hits;
            Assert.Equal(8, await cached.GetAsync(0));
            if (client.Cache.Metrics.Hits > hits) return true;
        }
        return false;
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T>> call, CancellationToken patience)
    {
        while (true)
        {
            try
            {
                return await call();
            }
            catch (SiloNotServingException) when (!patience.IsCancellationRequested)
            {
                await Task.Delay(100, patience);
            }
        }
    }
}
