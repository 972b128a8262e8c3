namespace OrleansDsm.Direct;

/// <summary>
/// A client's way to the direct channel of the silo its gateway calls reach (see <see cref="DirectWire"/>). It
/// connects in the background and hands out the connection only while it is open; until then, and for a while after it
/// breaks or when the silo offers none, callers make Orleans calls. The silo's revocations of the session's cached
/// copies come back on the connection and are applied by <c>revoke</c>. Counts what it served, for tests and metrics.
/// </summary>
internal sealed class DirectChannel(IGrainFactory grains, Guid session, TimeSpan connectTimeout, TimeSpan responseTimeout,
    Func<Caching.PageRevocation[], bool[]>? revoke) : IDisposable
{
    // How long after a failed or refused attempt the next may start: a silo without a channel is asked again now and then,
    // since the gateway a call reaches may change.
    private const long RetryMs = 5_000;

    private DirectConnection? _connection;
    private int _connecting;
    private long _nextAttemptAt;
    private volatile bool _disposed;
    private long _served;
    private long _revocations;
    private int _sets;

    /// <summary>How many requests the channel answered itself (the rest went to Orleans calls).</summary>
    public long Served => Interlocked.Read(ref _served);

    /// <summary>
    /// The open connection for a get, whatever waits on it already; with no open connection, null, and one is sought in
    /// the background. Many gets at once cost less on the channel than as calls: the silo answers them on its receiving
    /// thread, all the replies to one receive in one send (measured: docs/performance.md, "The direct channel").
    /// </summary>
    public DirectConnection? Current
    {
        get
        {
            if (Volatile.Read(ref _connection) is { IsOpen: true } open) return open;
            Seek();
            return null;
        }
    }

    /// <summary>
    /// Begins a set of this client, which <see cref="EndSet"/> ends: the open connection when no other set of the
    /// client is under way, else null. A set's reply leaves from its page's turn, one send per set, and with many sets
    /// under way that costs more processor time than Orleans' messages, which carry many at once (measured:
    /// docs/performance.md, "The direct channel"); one set alone is quicker on the channel.
    /// </summary>
    public DirectConnection? BeginSet() => Interlocked.Increment(ref _sets) == 1 ? Current : null;

    /// <summary>Ends a set that <see cref="BeginSet"/> began, however it went.</summary>
    public void EndSet() => Interlocked.Decrement(ref _sets);

    /// <summary>The connection, open or broken, that the channel holds now; null before the first has opened.</summary>
    public DirectConnection? Connection => Volatile.Read(ref _connection);

    /// <summary>How many revocation frames came over the channel (the rest came as calls to the cache's observer).</summary>
    public long RevocationsReceived => Interlocked.Read(ref _revocations);

    private bool[] Revoke(Caching.PageRevocation[] revocations)
    {
        Interlocked.Increment(ref _revocations);
        return revoke!(revocations);
    }

    /// <summary>Counts one request the channel answered.</summary>
    public void CountServed() => Interlocked.Increment(ref _served);

    /// <summary>Starts looking for a connection, unless one is being sought or the last attempt was too recent.</summary>
    public void Seek()
    {
        if (_disposed || Environment.TickCount64 < Volatile.Read(ref _nextAttemptAt)) return;
        if (Interlocked.CompareExchange(ref _connecting, 1, 0) != 0) return;
        _ = ConnectAsync();
    }

    private async Task ConnectAsync()
    {
        try
        {
            if (await grains.GetGrain<IDirectEndpointGrain>(0).GetState() is not { } endpoint) return;
            var connection = await DirectConnection.OpenAsync(endpoint, session, connectTimeout, responseTimeout, revoke is null ? null : Revoke);
            Interlocked.Exchange(ref _connection, connection)?.Dispose();
            if (_disposed) connection.Dispose();
        }
        catch (Exception)
        {
            // No channel for now (the silo is unreachable, stopping or firewalled): calls go through Orleans meanwhile.
        }
        finally
        {
            Volatile.Write(ref _nextAttemptAt, Environment.TickCount64 + RetryMs);
            Volatile.Write(ref _connecting, 0);
        }
    }

    public void Dispose()
    {
        _disposed = true;
        Interlocked.Exchange(ref _connection, null)?.Dispose();
    }
}
