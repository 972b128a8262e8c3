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

    /// <summary>A key no other workload or run uses.</summary>
    public static RedisKey FreshKey(string what) => $"bench:{what}:{Guid.NewGuid():N}";

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _connections) await connection.DisposeAsync();
    }
}
