using OrleansDsm.Caching;

namespace OrleansDsm.Grains.Caching;

/// <summary>
/// Sends this silo's revocations to each cache session. As calls to its cache's observer, at most one call to a session
/// is in flight: a revocation that finds a call to its session under way waits for it and goes out with every other
/// that waited meanwhile, in one call. Under load a session has many revocations in flight at once (about 14 per
/// session, measured, with 4 sessions reading and writing hot pages of one silo), and each call to a client costs more
/// than the call it answers. Over the session's direct connection to this silo, a page's revocations go at once, a
/// frame of their own: a frame costs far less than a call, frames that meet in the connection's queue leave in one
/// send anyway, and one that waited for the session's last answer would add that round trip to its writer's wait
/// (docs/performance.md, "The Strict rate"). Order per session is kept either way: a session applies its revocations
/// in the order this silo's pages sent them (a connection's frames arrive in the order queued, and a session with a
/// call under way has its frames wait behind it).
/// </summary>
/// <remarks>
/// Every call goes from the thread pool, none from a page's turn, so the silo itself is the caller (revocations that go
/// over a session's direct connection are frames queued there, not calls). A client's answer
/// reaches the caller through the client's gateway, and Orleans' gateway addresses what a client sends by where its
/// target grain lives now (the silo the call came from is ignored). A page that moved between its call and the answer,
/// or that the gateway's cache places wrongly, would never get the answer: it went to the other silo, which had no
/// call waiting for it, and the page's write waited out the holder's whole lease. Measured with every page of a run
/// moved to the other silo every few tens of milliseconds: 4 to 9 revocations unanswered per run before, none in six
/// runs after. The silo does not move.
/// </remarks>
internal sealed class RevocationSender(Direct.DirectSessions? direct = null)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<Guid, Outbox> _outboxes = [];

    /// <summary>
    /// Sends each of <paramref name="requests"/> as <see cref="Send"/> does, and returns their answers in the same order.
    /// Frames for sessions that share a direct connection (the clients of one process) leave in one send, not one each:
    /// each send wakes the client's receiving thread.
    /// </summary>
    public (Task<bool[]> Answers, int Last)[] SendAll(IReadOnlyList<Request> requests)
    {
        var corked = new List<Direct.DirectSession>(1);
        foreach (var request in requests)
            if (direct?.Find(request.Session) is { Connection: var connection } && !corked.Contains(connection))
            {
                connection.Cork();
                corked.Add(connection);
            }
        var sent = new (Task<bool[]> Answers, int Last)[requests.Count];
        try
        {
            for (var i = 0; i < requests.Count; i++)
                sent[i] = Send(requests[i].Session, requests[i].Holder, requests[i].Revocations, requests[i].Patience);
        }
        finally
        {
            foreach (var connection in corked) connection.Uncork();
        }
        return sent;
    }

    /// <summary>
    /// Sends <paramref name="revocations"/> (one page's, in order) to <paramref name="session"/>'s cache, all in one
    /// frame over its direct connection, or in one call through <paramref name="holder"/>. Returns the answers of that
    /// frame or call, and the place of the last of them among them: whether the session keeps a copy of the version it
    /// revokes (see <see cref="ICacheHolder.Revoke"/>). The caller bounds its own wait; a call carrying them is waited
    /// for at most <paramref name="patience"/> (the longest of its revocations') before the next call to the session
    /// goes, so a session that never answers holds up its later revocations no longer than that.
    /// </summary>
    public (Task<bool[]> Answers, int Last) Send(Guid session, ICacheHolder holder, PageRevocation[] revocations, TimeSpan patience)
    {
        var member = direct?.Find(session);
        Outbox? outbox;
        lock (_gate)
        {
            if (_outboxes.TryGetValue(session, out outbox))
            {
                outbox.Holder = holder;
                outbox.Waiting.AddRange(revocations);
                if (patience > outbox.Patience) outbox.Patience = patience;
                return ((outbox.Answers ??= new TaskCompletionSource<bool[]>()).Task, outbox.Waiting.Count - 1);
            }
            if (member is null) _outboxes[session] = outbox = new Outbox(holder);
        }
        if (outbox is null) return (member!.RevokeAsync(revocations), revocations.Length - 1);
        var call = Call(session, holder, revocations);
        _ = SendWaitingAsync(session, outbox, call, patience);
        return (call, revocations.Length - 1);
    }

    /// <summary>
    /// Once <paramref name="call"/> is answered (or has outrun its patience), sends in one call what came for the
    /// session meanwhile, and so on until nothing has; then closes the outbox. The first call's page awaits it itself;
    /// those that waited get their call's outcome here (a page's own patience never outlasts its call's, which begins
    /// later).
    /// </summary>
    private async Task SendWaitingAsync(Guid session, Outbox outbox, Task<bool[]> call, TimeSpan patience)
    {
        TaskCompletionSource<bool[]>? answers = null;
        while (true)
        {
            try
            {
                var kept = await call.WaitAsync(patience).ConfigureAwait(false);
                answers?.TrySetResult(kept);
            }
            catch (Exception error)
            {
                answers?.TrySetException(error);
            }
            PageRevocation[] revocations;
            ICacheHolder holder;
            lock (_gate)
            {
                if (outbox.Waiting.Count == 0)
                {
                    _outboxes.Remove(session);
                    return;
                }
                (revocations, answers, holder, patience) = (outbox.Waiting.ToArray(), outbox.Answers!, outbox.Holder, outbox.Patience);
                outbox.Waiting.Clear();
                (outbox.Answers, outbox.Patience) = (null, TimeSpan.Zero);
            }
            call = Call(session, holder, revocations);
        }
    }

    /// <summary>
    /// Over the session's direct connection to this silo when it has one, where sending is queuing a frame; else the
    /// call, made from the thread pool (see the remarks); or a failed task if making it throws: the outbox must still
    /// see it end.
    /// </summary>
    private Task<bool[]> Call(Guid session, ICacheHolder holder, PageRevocation[] revocations) =>
        direct?.Find(session) is { } connection ? connection.RevokeAsync(revocations) : Task.Run(() => CallObserver(holder, revocations));

    private static Task<bool[]> CallObserver(ICacheHolder holder, PageRevocation[] revocations)
    {
        try
        {
            return holder.Revoke(revocations);
        }
        catch (Exception error)
        {
            return Task.FromException<bool[]>(error);
        }
    }

    /// <summary>What <see cref="SendAll"/> sends to one session: see <see cref="Send"/>.</summary>
    public readonly record struct Request(Guid Session, ICacheHolder Holder, PageRevocation[] Revocations, TimeSpan Patience);

    private sealed class Outbox(ICacheHolder holder)
    {
        public ICacheHolder Holder = holder;
        public readonly List<PageRevocation> Waiting = [];
        public TimeSpan Patience;
        // The answers of the next call, created when the first revocation waits for it.
        public TaskCompletionSource<bool[]>? Answers;
    }
}
