using OrleansDsm.Caching;

namespace OrleansDsm.Grains.Caching;

/// <summary>
/// The sessions that cache one page, and how the page revokes their copies: all at once, each wait bounded by that
/// session's lease on this silo, because a holder that does not answer (dead, or cut off) stops trusting its copy
/// when its lease ends. Used from its page grain's thread only.
/// </summary>
internal sealed class CacheHolders(SessionLeaseTable leases, bool skipForCheckerTests)
{
    // Allocated on the first fill: most pages are never cached by anyone, and every byte of a page grain counts.
    private Dictionary<Guid, ICacheHolder>? _holders;

    public void Add(Guid session, ICacheHolder holder) => (_holders ??= [])[session] = holder;

    /// <summary>
    /// Returns once every holder but <paramref name="writer"/> has dropped its copies older than
    /// <paramref name="version"/> or its lease has run out. The writer's client updates or drops its own copy itself.
    /// </summary>
    public async Task RevokeAsync(long page, long version, Guid writer)
    {
        if (_holders is not { Count: > 0 } || skipForCheckerTests) return;
        var revocations = new List<Task>(_holders.Count);
        ICacheHolder? writerHolder = null;
        foreach (var (session, holder) in _holders)
        {
            if (session == writer)
            {
                writerHolder = holder;
                continue;
            }
            var remaining = leases.Remaining(session);
            if (remaining > TimeSpan.Zero) revocations.Add(RevokeOneAsync(session, holder, page, version, remaining));
        }
        _holders.Clear();
        // The writer's client may bring its copy up to the version this write makes (it knows the change), so it stays a holder.
        if (writerHolder is not null) _holders[writer] = writerHolder;
        if (revocations.Count == 0) return;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        CoherenceMetrics.InvalidationsSent.Add(revocations.Count);
        await Task.WhenAll(revocations);
        CoherenceMetrics.WriterStall.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
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
}
