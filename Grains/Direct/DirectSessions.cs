namespace OrleansDsm.Grains.Direct;

/// <summary>
/// The client sessions connected to this silo's direct channel, by the session their hello named, so that a page's
/// revocations for such a session go over its connection rather than as a call to its cache's observer (a round trip
/// through the gateway and Orleans' callback machinery, the larger part of a write to a page another client caches).
/// </summary>
internal sealed class DirectSessions
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, DirectSession> _open = new();

    /// <summary>The open connection of <paramref name="session"/>, if it has one here.</summary>
    public DirectSession? Find(Guid session) => _open.GetValueOrDefault(session);

    /// <summary>
    /// Lists a connection once its hello has come, unless the session has one listed already: a hello names its session
    /// unproved, so a later connection claiming it does not take the revocations of the one listed. A connection not
    /// listed still serves requests; its session's revocations go as calls, as for a client without a connection here.
    /// </summary>
    public void Add(Guid session, DirectSession connection) => _open.TryAdd(session, connection);

    /// <summary>Takes a connection off the list when it ends, if it is the one listed for its session.</summary>
    public void Remove(Guid session, DirectSession connection) => _open.TryRemove(KeyValuePair.Create(session, connection));
}
