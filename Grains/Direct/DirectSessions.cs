using System.Collections.Concurrent;
using OrleansDsm.Caching;

namespace OrleansDsm.Grains.Direct;

/// <summary>
/// The client sessions joined to this silo's direct connections, by session, so that a page's revocations for such a
/// session go over its connection rather than as a call to its cache's observer (a round trip through the gateway and
/// Orleans' callback machinery, the larger part of a write to a page another client caches).
/// </summary>
internal sealed class DirectSessions
{
    private readonly ConcurrentDictionary<Guid, DirectMember> _joined = new();
    // Members that named a session already listed when they joined, by session, oldest first: one of them takes the
    // session's revocations when the listed one goes. A client whose connection to this silo is replaced joins the new
    // one before the old one ends, so without them its session would be listed nowhere from then on.
    private readonly Dictionary<Guid, List<DirectMember>> _waiting = [];
    private readonly Lock _gate = new();

    /// <summary>Where <paramref name="session"/> joined a connection here, if it did.</summary>
    public DirectMember? Find(Guid session) => _joined.GetValueOrDefault(session);

    /// <summary>
    /// Lists a member once its join has come, unless its session is listed already: a join names its session
    /// unproved, so a later connection claiming it does not take the revocations of the one listed; it waits, and takes
    /// them once that one has gone. A member not listed still has its requests served; its session's revocations go
    /// as calls, as for a client without a connection here.
    /// </summary>
    public void Add(DirectMember member)
    {
        lock (_gate)
        {
            if (_joined.TryAdd(member.Session, member)) return;
            if (!_waiting.TryGetValue(member.Session, out var waiting)) _waiting[member.Session] = waiting = [];
            waiting.Add(member);
        }
    }

    /// <summary>
    /// Takes a member off the list when it leaves or its connection ends; if it was the one listed for its session,
    /// the oldest member waiting for that session is listed instead.
    /// </summary>
    public void Remove(DirectMember member)
    {
        lock (_gate)
        {
            _waiting.TryGetValue(member.Session, out var waiting);
            if (waiting?.Remove(member) == true && waiting.Count == 0) _waiting.Remove(member.Session);
            if (!_joined.TryRemove(KeyValuePair.Create(member.Session, member)) || waiting is not { Count: > 0 }) return;
            _joined[member.Session] = waiting[0];
            waiting.RemoveAt(0);
            if (waiting.Count == 0) _waiting.Remove(member.Session);
        }
    }
}

/// <summary>A session joined to a direct connection as member number <paramref name="Number"/>.</summary>
internal sealed record DirectMember(DirectSession Connection, ushort Number, Guid Session)
{
    /// <summary>Sends the session's cache <paramref name="revocations"/>; see <see cref="DirectSession.RevokeAsync"/>.</summary>
    public Task<bool[]> RevokeAsync(PageRevocation[] revocations) => Connection.RevokeAsync(this, revocations);
}
