namespace OrleansDsm.Direct;

/// <summary>
/// A client's way to the direct channel of the silo its gateway calls reach (see <see cref="DirectWire"/>): a member
/// of the one connection its Orleans client's clients share (<see cref="DirectLink"/>), under the client's session.
/// The connection is handed out only while it is open; until then, and for a while after it breaks or when the silo
/// offers none, callers make Orleans calls. The silo's revocations of the session's cached copies come back on the
/// connection and are applied by <c>revoke</c>. Counts what it served, for tests and metrics.
/// </summary>
internal sealed class DirectChannel : IDisposable
{
    private readonly DirectLink _link;
    private readonly Func<Caching.PageRevocation[], bool[]>? _revoke;
    private long _served;
    private long _revocations;
    private int _sets;
    private int _disposed;

    public DirectChannel(IGrainFactory grains, Guid session, TimeSpan connectTimeout, TimeSpan responseTimeout, Func<Caching.PageRevocation[], bool[]>? revoke)
    {
        Session = session;
        _revoke = revoke;
        (_link, Number) = DirectLink.Join(grains, this, connectTimeout, responseTimeout);
    }

    /// <summary>The session the client's sets are made under and its cache's revocations are for.</summary>
    public Guid Session { get; }

    /// <summary>The client's member number on the connection, which its requests carry.</summary>
    public ushort Number { get; }

    /// <summary>How many requests the channel answered itself (the rest went to Orleans calls).</summary>
    public long Served => Interlocked.Read(ref _served);

    /// <summary>
    /// The open connection for a get, whatever waits on it already; with no open connection, null, and one is sought in
    /// the background. Many gets at once cost less on the channel than as calls: the silo answers them on its receiving
    /// thread, all the replies to one receive in one send (measured: docs/performance.md, "The direct channel").
    /// </summary>
    public DirectConnection? Current => _link.Current;

    /// <summary>
    /// Begins a set of this client, which <see cref="EndSet"/> ends: the open connection when no other set of the
    /// client is under way, else null. A set's reply leaves from its page's turn, one send per set, and with many sets
    /// under way that costs more processor time than Orleans' messages, which carry many at once (measured:
    /// docs/performance.md, "The direct channel"); one set alone is quicker on the channel.
    /// </summary>
    public DirectConnection? BeginSet() => Interlocked.Increment(ref _sets) == 1 ? Current : null;

    /// <summary>Ends a set that <see cref="BeginSet"/> began, however it went.</summary>
    public void EndSet() => Interlocked.Decrement(ref _sets);

    /// <summary>The connection, open or broken, that the channel's link holds now; null before the first has opened.</summary>
    public DirectConnection? Connection => _link.Connection;

    /// <summary>How many revocation frames for this client came over the channel (the rest came as calls to the cache's observer).</summary>
    public long RevocationsReceived => Interlocked.Read(ref _revocations);

    /// <summary>Applies a revocation frame for this client; null (nothing kept) without a cache.</summary>
    public bool[]? Revoke(Caching.PageRevocation[] revocations)
    {
        Interlocked.Increment(ref _revocations);
        return _revoke?.Invoke(revocations);
    }

    /// <summary>Counts one request the channel answered.</summary>
    public void CountServed() => Interlocked.Increment(ref _served);

    /// <summary>Starts looking for a connection, unless one is being sought or the last attempt was too recent.</summary>
    public void Seek() => _link.Seek();

    /// <summary>Leaves the link; the connection closes with its last member.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _link.Leave(Number);
    }
}
