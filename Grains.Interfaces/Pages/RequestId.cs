namespace OrleansDsm.Pages;

/// <summary>
/// Names one mutation: the client's session and a number the session never uses twice. A client that does not learn a
/// mutation's outcome (a lost response, a silo that died) sends it again with the same id, and the page returns the
/// original result instead of applying it twice.
/// </summary>
/// <param name="Session">The client's session; also its cache session, so the page does not revoke the writer's own copy.</param>
/// <param name="Sequence">Unique within the session.</param>
/// <param name="Retry">
/// Whether this is a second or later attempt. A first attempt is never a duplicate, whatever order it arrives in; only
/// a retry may find that its page no longer remembers whether it applied the first.
/// </param>
/// <param name="Fence">
/// For a write made under a lock: the hold it belongs to. The page applies it only while that hold is the lock's
/// current one, and otherwise refuses it with <see cref="LockLostException"/>.
/// </param>
[GenerateSerializer, Immutable]
public readonly record struct RequestId(Guid Session, long Sequence, bool Retry = false, Locks.LockFence? Fence = null)
{
    /// <summary>The same id, marked as a retry.</summary>
    public RequestId AsRetry() => this with { Retry = true };

    /// <summary>Whether <paramref name="other"/> names the same mutation, attempt aside.</summary>
    public bool SameMutation(RequestId other) => Session == other.Session && Sequence == other.Sequence;
}
