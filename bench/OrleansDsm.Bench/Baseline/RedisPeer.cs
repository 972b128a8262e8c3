using StackExchange.Redis;

namespace OrleansDsm.Bench.Baseline;

/// <summary>
/// The peer users would pick instead: a private redis-server that bench/run.sh starts on loopback without persistence
/// (the DSM figures beside it keep pages in memory too), reached through StackExchange.Redis. One multiplexed
/// connection per client, as that library is meant to be used.
/// </summary>
public sealed class RedisPeer(string endpoint) : IAsyncDisposable
{
    /// <summary>How the Redis figures were obtained, for the report.</summary>
    public const string Setup = "redis-server on loopback, no persistence (save \"\", appendonly no); StackExchange.Redis 3.4, one multiplexed connection per client";

    private readonly List<ConnectionMultiplexer> _connections = [];

    /// <summary>A new client: its own connection, so that several clients do not share one socket.</summary>
    public async Task<IDatabase> ConnectAsync()
    {
        var connection = await ConnectionMultiplexer.ConnectAsync($"{endpoint},abortConnect=true,connectTimeout=10000");
        lock (_connections) _connections.Add(connection);
        return connection.GetDatabase();
    }

    /// <summary>How the non-pipelined Redis figures were obtained: one connection per request in flight.</summary>
    public const string UnpipelinedSetup = "redis-server on loopback, no persistence (save \"\", appendonly no); StackExchange.Redis 3.4, one connection per request in flight (non-pipelined: no connection carries a second request before the first is answered)";

    /// <summary>
    /// <paramref name="count"/> clients, each on its own connection: a caller that keeps one request in flight on each
    /// is Redis without pipelining. Concurrent requests on one multiplexed connection are pipelined by the library.
    /// </summary>
    public async Task<IDatabase[]> ConnectEachAsync(int count)
    {
        var clients = new IDatabase[count];
        for (var first = 0; first < count; first += 16)
        {
            var batch = Enumerable.Range(first, Math.Min(16, count - first)).ToArray();
            var connected = await Task.WhenAll(batch.Select(_ => ConnectAsync()));
            connected.CopyTo(clients, first);
        }
        return clients;
    }

    /// <summary>A key no other workload or run uses.</summary>
    public static RedisKey FreshKey(string what) => $"bench:{what}:{Guid.NewGuid():N}";

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _connections) await connection.DisposeAsync();
    }
}
