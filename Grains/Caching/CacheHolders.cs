using OrleansDsm.Caching;

namespace OrleansDsm.Grains.Caching;

/// <summary>
/// The sessions that cache one page, each with the version of the copy it holds, and how the page revokes copies: all
/// at once, each wait bounded by that session's lease on this silo, because a holder that does not answer (dead, or
/// cut off) stops trusting its copy when its lease ends. A holder of the version just before the one published is
/// asked to drop only the bytes the last change wrote (sent with them when they are few), and holds the new version if
/// it keeps the rest. Used from its page grain's thread only.
/// </summary>
internal sealed class CacheHolders(SessionLeaseTable leases, RevocationSender sender, Metrics.SiloMetrics metrics, bool skipForCheckerTests)
{
    /// <summary>The most bytes a change sends its holders: beyond it, they only lose the range.</summary>
    public const int MostBytesSent = 1024;

    // Allocated on the first fill: most pages are never cached by anyone, and every byte of a page grain counts.
    private Dictionary<Guid, Holder>? _holders;

    // The newest change: which version it made, which bytes it wrote and, for a small change of a cached page, what they
    // became. A copy of the version before it needs to lose (or take) only those bytes.
    private (long Version, int Offset, int Length, byte[]? Bytes) _lastChange;

    /// <summary>
    /// Records that version <paramref name="version"/> differs from the one before only in bytes [offset, offset +
    /// length) of <paramref name="image"/>, the image it made; given once per change, in version order, before the
    /// image changes again. A length of 0 says the change leaves nothing of an older copy worth keeping.
    /// </summary>
    public void Changed(long version, int offset, int length, byte[] image) =>
        _lastChange = (version, offset, length, length is > 0 and <= MostBytesSent && Count > 0 ? image.AsSpan(offset, length).ToArray() : null);

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
            : new Holder(holder, version);
    }

    /// <summary>
    /// Records that <paramref name="session"/> wrote version <paramref name="version"/>: its client brings a copy of the
    /// version just before up to this one from its own change (see the client's page cache), so that copy stays current.
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
        // Started once the holders are no longer being enumerated: an answer that comes at once re-adds its holder.
        var revocations = new List<Task>(revoked.Count);
        var change = _lastChange;
        foreach (var (session, holder) in revoked)
        {
            _holders.Remove(session);
            if (skipForCheckerTests) continue;
            var remaining = leases.Remaining(session);
            if (remaining <= TimeSpan.Zero) continue;
            // A copy of the version just before this one differs from it only where the last change wrote.
            var hole = change.Version == version && change.Length > 0 && holder.Version == version - 1 ? (change.Offset, change.Length, change.Bytes) : ((int, int, byte[]?)?)null;
            revocations.Add(RevokeAsync(session, holder.Callback, page, version, hole, remaining));
        }
        if (revocations.Count == 0) return;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await Task.WhenAll(revocations);
        metrics.WriterStalled(revocations.Count, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>
    /// Revokes one holder's copy, or given a <paramref name="hole"/> only those bytes of it; a holder that keeps the
    /// rest holds <paramref name="version"/> from now on. The revocation goes with any others this silo has waiting
    /// for the same session (see <see cref="RevocationSender"/>).
    /// </summary>
    private async Task RevokeAsync(Guid session, ICacheHolder holder, long page, long version, (int Offset, int Length, byte[]? Bytes)? hole, TimeSpan remaining)
    {
        try
        {
            var revocation = hole is (var offset, var length, var bytes) ? new PageRevocation(page, version, offset, length, bytes) : new PageRevocation(page, version, 0, 0, null);
            var (answers, index) = sender.Send(session, holder, revocation, remaining);
            var kept = await answers.WaitAsync(remaining);
            // Resumes on the page's turn, so the holders may be changed here; no fill is answered until this ends.
            if (hole is not null && index < kept.Length && kept[index] && (!_holders!.TryGetValue(session, out var known) || known.Version < version))
                _holders[session] = new Holder(holder, version);
        }
        catch (Exception)
        {
            // No answer, or a failed call: the holder may still be serving its copy until its lease ends, and if it
            // renewed meanwhile that is later than it was when the revocation went out. Its term ends here, so no
            // renewal extends that copy again; the write waits out what the term already granted.
            metrics.RevocationUnanswered();
            var left = leases.EndTerm(session);
            if (left > TimeSpan.Zero) await Task.Delay(left);
        }
    }

    private readonly record struct Holder(ICacheHolder Callback, long Version);
}
