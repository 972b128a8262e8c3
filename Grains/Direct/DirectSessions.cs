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

    /// <summary>Where <paramref name="session"/> joined a connection here, if it did.</summary>
    public DirectMember? Find(Guid session) => _joined.GetValueOrDefault(session);

    /// <summary>
    /// Lists a member once its join has come, unless its session is listed already: a join names its session
    /// unproved, so a later connection claiming it does not take the revocations of the one listed. A member not
    /// listed still has its requests served; its session's revocations go as calls, as for a client without a
    /// connection here.
    /// </summary>
    public void Add(DirectMember member) => _joined.TryAdd(member.Session, member);

    /// <summary>Takes a member off the list when it leaves or its connection ends, if it is the one listed for its session.</summary>
    public void Remove(DirectMember member) => _joined.TryRemove(KeyValuePair.Create(member.Session, member));
}

/// <summary>A session joined to a direct connection as member number <paramref name="Number"/>.</summary>
internal sealed record DirectMember(DirectSession Connection, ushort Number, Guid Session)
{
    /// <summary>Sends the session's cache <paramref name="revocations"/>; see <see cref="DirectSession.RevokeAsync"/>.</summary>
    public Task<bool[]> RevokeAsync(PageRevocation[] revocations) => Connection.RevokeAsync(this, revocations);
}
