using OrleansDsm.Caching;

namespace OrleansDsm.Grains.Caching;

/// <summary>
/// The sessions that cache one page, each with the version of the copy it holds, and how the page revokes copies: all
/// at once, each wait bounded by that session's lease on this silo, because a holder that does not answer (dead, or
/// cut off) stops trusting its copy when its lease ends. A holder a few versions behind the one published is asked to
/// drop only the bytes each change since its copy wrote (sent with them when they are few), one revocation per
/// version, and holds the new version if it keeps the rest. Used from its page grain's thread only.
/// </summary>
internal sealed class CacheHolders(SessionLeaseTable leases, RevocationSender sender, Metrics.SiloMetrics metrics, bool skipForCheckerTests)
{
    /// <summary>The most bytes a change sends its holders: beyond it, they only lose the range.</summary>
    public const int MostBytesSent = 1024;

    /// <summary>
    /// How many of the newest changes a cached page remembers: a holder at most this many versions behind keeps its
    /// copy. Writes that interleave are published together, and a holder is then as many versions behind as the
    /// group holds (measured with 4 sessions writing 5% of 1000 Zipf-hot pages: behind by 2 in half of these
    /// revocations, by 5 or more in a sixth); each such holder refetched its page when only the newest was kept.
    /// </summary>
    public const int ChangesKept = 8;

    // Allocated on the first fill: most pages are never cached by anyone, and every byte of a page grain counts.
    private Dictionary<Guid, Holder>? _holders;

    // The newest changes, by version modulo ChangesKept: which version each made, which bytes it wrote and, for a small
    // change of a cached page, what they became. A copy of the version before one needs to lose (or take) only those
    // bytes. Allocated with the holders.
    private Change[]? _changes;

    // Holders whose revocation is in flight: they are no longer counted, but come back when they keep their copy, and
    // the bytes of changes made meanwhile are what keeps it.
    private int _revoking;

    /// <summary>
    /// Records that version <paramref name="version"/> differs from the one before only in bytes [offset, offset +
    /// length) of <paramref name="image"/>, the image it made; given once per change, in version order, before the
    /// image changes again. A length of 0 says the change leaves nothing of an older copy worth keeping.
    /// </summary>
    public void Changed(long version, int offset, int length, byte[] image)
    {
        // A page no session has cached since it activated has no copy to bring up to date.
        if (_holders is null) return;
        var changes = _changes ??= new Change[ChangesKept];
        var bytes = length is > 0 and <= MostBytesSent && Count + _revoking > 0 ? image.AsSpan(offset, length).ToArray() : null;
        changes[version % ChangesKept] = new Change(version, offset, length, bytes);
    }

    /// <summary>
    /// Records that <paramref name="session"/> now caches the page at <paramref name="version"/>. A record already newer
    /// stays: it comes from the session's own write (see <see cref="Wrote"/>), whose client keeps that copy and refuses
    /// this older one, so lowering it would have the write's revocation drop a session that still holds a copy.
    /// </summary>
    public void Add(Guid session, ICacheHolder holder, long version)
    {
        _holders ??= [];
        _holders[session] = _holders.TryGetValue(session, out var known) && known.Version > version
            ? known with { Callback = holder }
            : new Holder(holder, version, version);
    }

    /// <summary>
    /// Records that <paramref name="session"/> wrote version <paramref name="version"/>: its client brings a copy of the
    /// version just before up to this one from its own change (see the client's page cache), so that copy stays current.
    /// Until the write returns, the copy may still be the one the session was sent: a later revocation steps it from
    /// there, through this change.
    /// </summary>
    public void Wrote(Guid session, long version)
    {
        if (_holders is not null && _holders.TryGetValue(session, out var holder) && holder.Version == version - 1)
            _holders[session] = holder with { Version = version };
    }

    /// <summary>How many sessions hold a copy.</summary>
    public int Count => _holders?.Count ?? 0;

    /// <summary>Whether some session holds a copy older than <paramref name="version"/>.</summary>
    public bool AnyOlderThan(long version)
    {
        // Asked on every commit of a cached page: a plain loop, so it allocates nothing.
        if (_holders is null) return false;
        foreach (var holder in _holders.Values)
            if (holder.Version < version) return true;
        return false;
    }

    /// <summary>
    /// Returns once every session holding a copy older than <paramref name="version"/> has dropped it, or made it a copy
    /// of <paramref name="version"/> that serves all but the bytes the version changed, or its lease has run out. Those
    /// that dropped their copy are no longer holders; those that kept one hold <paramref name="version"/>. Sessions
    /// whose copy is current stay.
    /// </summary>
    public async Task RevokeOlderThanAsync(long page, long version)
    {
        if (_holders is not { Count: > 0 }) return;
        var revoked = new List<(Guid Session, Holder Holder)>(_holders.Count);
        foreach (var (session, holder) in _holders)
            if (holder.Version < version) revoked.Add((session, holder));
        // Sent once the holders are no longer being enumerated, all together (so those of one connection leave in one
        // send). Each answer is waited for off the page's turn, and the page resumes once, when all are in, instead of
        // once per holder: a turn is a trip through the silo's queues.
        var requests = new List<RevocationSender.Request>(revoked.Count);
        foreach (var (session, holder) in revoked)
        {
            _holders.Remove(session);
            if (skipForCheckerTests) continue;
            var remaining = leases.Remaining(session);
            if (remaining > TimeSpan.Zero) requests.Add(new(session, holder.Callback, Revocations(page, holder, version), remaining));
        }
        if (requests.Count == 0) return;
        var calls = sender.SendAll(requests);
        var sent = new List<Revocation>(requests.Count);
        for (var i = 0; i < requests.Count; i++)
        {
            var (session, callback, revocations, remaining) = requests[i];
            sent.Add(new Revocation(session, callback, AnswersAsync(session, calls[i].Answers, remaining), calls[i].Last, revocations[^1].Length > 0));
        }
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        _revoking += sent.Count;
        try
        {
            await Task.WhenAll(sent.Select(revocation => revocation.Answers));
        }
        finally
        {
            _revoking -= sent.Count;
        }
        // On the page's turn again, so the holders may be changed here; no fill is answered until this ends. A holder
        // that kept the rest of its copy holds this version from now on.
        foreach (var (session, callback, answers, last, partial) in sent)
            if (partial && answers.Result is { } kept && last < kept.Length && kept[last] && (!_holders!.TryGetValue(session, out var known) || known.Version < version))
                _holders[session] = new Holder(callback, version, version);
        metrics.WriterStalled(sent.Count, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>
    /// The answers of the call that carries a holder's revocations, or null, once its lease has run out, when none
    /// came in time or the call failed. Runs off the page's turn (the lease table is the silo's, safe from any thread).
    /// </summary>
    private async Task<bool[]?> AnswersAsync(Guid session, Task<bool[]> answers, TimeSpan remaining)
    {
        try
        {
            return await answers.WaitAsync(remaining).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // No answer, or a failed call: the holder may still be serving its copy until its lease ends, and if it
            // renewed meanwhile that is later than it was when the revocation went out. Its term ends here, so no
            // renewal extends that copy again; the write waits out what the term already granted.
            metrics.RevocationUnanswered();
            var left = leases.EndTerm(session);
            if (left > TimeSpan.Zero) await Task.Delay(left).ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>
    /// What <paramref name="holder"/>'s copy is sent to make it a copy of <paramref name="version"/>: one revocation per
    /// version since the copy it was sent (its own writes that have not returned included, since their change may not
    /// have reached the copy yet), each naming the bytes its change wrote, when every one of those changes is
    /// remembered and wrote part of the page; failing that, the same since the version it holds once those writes
    /// return; else one that drops the copy.
    /// </summary>
    private PageRevocation[] Revocations(long page, Holder holder, long version) =>
        Steps(page, holder.Received, version) ?? Steps(page, holder.Version, version) ?? [new PageRevocation(page, version, 0, 0, null)];

    private PageRevocation[]? Steps(long page, long held, long version)
    {
        var behind = version - held;
        if (behind is <= 0 or > ChangesKept || _changes is not { } changes) return null;
        var steps = new PageRevocation[behind];
        for (var step = 0; step < behind; step++)
        {
            var made = held + 1 + step;
            if (changes[made % ChangesKept] is not { Length: > 0 } change || change.Version != made) return null;
            steps[step] = new PageRevocation(page, made, change.Offset, change.Length, change.Bytes, Continues: step > 0);
        }
        return steps;
    }

    /// <summary>
    /// One holder's revocations under way: the answers of the call carrying them (see <see cref="AnswersAsync"/>), the
    /// place of the last of them there, and whether it names bytes, so that the holder may keep the rest of its copy.
    /// </summary>
    private readonly record struct Revocation(Guid Session, ICacheHolder Callback, Task<bool[]?> Answers, int Last, bool Partial);

    // Version: what the session's copy is once its own writes have returned; Received: what it was last sent (a fill, or
    // the revocation it kept its copy through).
    private readonly record struct Holder(ICacheHolder Callback, long Version, long Received);

    private readonly record struct Change(long Version, int Offset, int Length, byte[]? Bytes);
}
