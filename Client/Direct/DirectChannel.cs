using System.Diagnostics.Metrics;

namespace OrleansDsm.Direct;

/// <summary>
/// A client's way to the silos' direct channels (see <see cref="DirectWire"/>): a member of the connections its
/// Orleans client's clients share (<see cref="DirectLink"/>: one to the silo its gateway calls reach, and one to each
/// silo its pages were found on), under the client's session. A connection is handed out only while it is open; until
/// then, and for a while after it breaks or when the silo offers none, callers make Orleans calls. The silos'
/// revocations of the session's cached copies come back on the connections and are applied by <c>revoke</c>. Counts
/// what it served, for tests and metrics.
/// </summary>
internal sealed class DirectChannel : IDisposable
{
    private readonly DirectLink _link;
    private readonly Func<Caching.PageRevocation[], bool[]>? _revoke;
    private readonly Meter _meter = new(Caching.CacheMetrics.MeterName);
    private long _served;
    private long _revocations;
    private int _disposed;

    public DirectChannel(IGrainFactory grains, Guid session, DirectTimeouts timeouts, Func<Caching.PageRevocation[], bool[]>? revoke,
        DirectTls? tls = null)
    {
        Session = session;
        _revoke = revoke;
        (_link, Number) = DirectLink.Join(grains, this, timeouts, tls);
        // A client that cannot use its channel still works, over slower Orleans calls: these show which it does, and why.
        var tag = new KeyValuePair<string, object?>(Caching.CacheMetrics.SessionTag, session.ToString());
        _meter.CreateObservableCounter("dsm.direct.requests_served", () => new Measurement<long>(Served, tag),
            description: "Requests the direct channel answered (the rest went as Orleans calls)");
        _meter.CreateObservableGauge("dsm.direct.connected", () => new Measurement<int>(_link.Connection is { IsOpen: true } ? 1 : 0, tag),
            description: "1 while the client's direct connection is open, 0 while its requests go as Orleans calls");
        _meter.CreateObservableGauge("dsm.direct.connections", () => new Measurement<int>(_link.OpenConnections, tag),
            description: "Direct connections open (shared by the clients of one Orleans client): the gateway's silo's, and one to each other silo the client's pages were found on");
        _meter.CreateObservableCounter("dsm.direct.connect_failures", () => Enum.GetValues<ConnectFailure>().Select(reason =>
                new Measurement<long>(_link.Failures(reason), tag, new KeyValuePair<string, object?>("dsm.reason", ReasonTag(reason)))),
            description: "Failed attempts to open the direct connection (shared by the clients of one Orleans client), by dsm.reason");
    }

    private static string ReasonTag(ConnectFailure reason) => reason switch
    {
        ConnectFailure.NoChannel => "no_channel",
        ConnectFailure.Plaintext => "plaintext",
        ConnectFailure.Tls => "tls",
        _ => "unreachable",
    };

    /// <summary>The session the client's sets are made under and its cache's revocations are for.</summary>
    public Guid Session { get; }

    /// <summary>The client's member number on the connection, which its requests carry.</summary>
    public ushort Number { get; }

    /// <summary>How many requests the channel answered itself (the rest went to Orleans calls).</summary>
    public long Served => Interlocked.Read(ref _served);

    /// <summary>
    /// The open connection for a get or a set, whatever waits on it already; with no open connection, null, and one is
    /// sought in the background. Many requests at once cost less on the channel than as calls: the silo answers the
    /// gets of one receive together, and the client sends the next requests of the callers that one receive resumed
    /// together (measured: docs/performance.md, "The direct channel").
    /// </summary>
    public DirectConnection? Current => _link.Current;

    /// <summary>
    /// The open connection for a request to <paramref name="page"/>: to the page's own silo once the link has learned
    /// it and connected there, otherwise <see cref="Current"/>'s.
    /// </summary>
    public DirectConnection? For(long page) => _link.For(page);

    /// <summary>Tells the link how a request for <paramref name="page"/> was answered over <paramref name="via"/>, so it learns where pages are.</summary>
    public void Replied(long page, DirectConnection via, DirectReply reply) => _link.Replied(page, via, reply);

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
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _meter.Dispose();
        _link.Leave(Number);
    }
}
