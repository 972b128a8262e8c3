using OrleansDsm.Caching;

namespace OrleansDsm.Grains.Caching;

/// <summary>
/// The sessions that cache one page, each with the version of the copy it holds, and how the page revokes copies: all
/// at once, each wait bounded by that session's lease on this silo, because a holder that does not answer (dead, or
/// cut off) stops trusting its copy when its lease ends. Used from its page grain's thread only.
/// </summary>
internal sealed class CacheHolders(SessionLeaseTable leases, Metrics.SiloMetrics metrics, bool skipForCheckerTests)
{
    // Allocated on the first fill: most pages are never cached by anyone, and every byte of a page grain counts.
    private Dictionary<Guid, Holder>? _holders;

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
    /// Returns once every session holding a copy older than <paramref name="version"/> has dropped it or its lease has
    /// run out; those sessions are no longer holders. Sessions whose copy is current stay.
    /// </summary>
    public async Task RevokeOlderThanAsync(long page, long version)
    {
        if (_holders is not { Count: > 0 }) return;
        var revocations = new List<Task>(_holders.Count);
        foreach (var (session, holder) in _holders)
        {
            if (holder.Version >= version) continue;
            _holders.Remove(session);
            if (skipForCheckerTests) continue;
            var remaining = leases.Remaining(session);
            if (remaining > TimeSpan.Zero) revocations.Add(RevokeOneAsync(session, holder.Callback, page, version, remaining));
        }
        if (revocations.Count == 0) return;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await Task.WhenAll(revocations);
        metrics.WriterStalled(revocations.Count, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private async Task RevokeOneAsync(Guid session, ICacheHolder holder, long page, long version, TimeSpan remaining)
    {
        try
        {
            await holder.Invalidate(page, version).WaitAsync(remaining);
        }
        catch (Exception)
        {
            // No answer, or a failed call: the holder may still be serving its copy until its lease ends, and if it
            // renewed meanwhile that is later than it was when the revocation went out. Its term ends here, so no
            // renewal extends that copy again; the write waits out what the term already granted.
            var left = leases.EndTerm(session);
            if (left > TimeSpan.Zero) await Task.Delay(left);
        }
    }

    private readonly record struct Holder(ICacheHolder Callback, long Version);
}
