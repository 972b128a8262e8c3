using OrleansDsm.Pages;

namespace OrleansDsm.Caching;

// How revocations and this client's own writes change cached copies, and which fetched copies may be installed:
// under the cache's lock, each page with writes or fills in flight keeps a fence that remembers what came meanwhile,
// so that no copy older than a revocation already answered is ever served.
internal sealed partial class PageCache
{
    /// <summary>
    /// What a fill's Strict copy may be cached as, given the page's fence, or null when it may not (see
    /// <see cref="Admits"/>); a copy older than a revocation may still be brought up to it (see <see cref="Bridged"/>).
    /// While this client writes the page, the copy is cached without the ranges being written (not at all when a write
    /// covers the whole page): whether it holds those writes is not known until they return. Called under the lock.
    /// </summary>
    private CachedPage? Admitted(Fence fence, CachedPage copy)
    {
        if (copy.Version < fence.Revoked && Bridged(fence, copy) is { } bridged) copy = bridged;
        if (!Admits(fence, copy)) return null;
        if (fence.Writes == 0) return copy;
        if (fence.RefusesFills) return null;
        return copy.Blocking(fence.Writing, copy.Version);
    }

    /// <summary>
    /// <paramref name="copy"/> as a copy of the newest version revoked, if a revocation that arrived while it was being
    /// fetched named the range each version after its own changed: outside those ranges, the bytes of its version are
    /// those of the newest. The bytes a revocation sent are applied once a later revocation shows them published (one
    /// that does not continue their run says all copies of the versions before it are answered for) and held back
    /// otherwise; a range sent without bytes is not served.
    /// </summary>
    private static CachedPage? Bridged(Fence fence, CachedPage copy)
    {
        if (fence.Revoked - copy.Version > fence.Holes.Count) return null;
        for (var version = copy.Version + 1; version <= fence.Revoked; version++)
        {
            var found = fence.Holes.FindIndex(hole => hole.Version == version);
            if (found < 0) return null;
            var hole = fence.Holes[found];
            // A revocation that starts a run is answered for the version before, and Revoked applies what was held back.
            if (copy.Revoked(version, hole.Start, hole.End - hole.Start, hole.Bytes, lackedAlready: false, hole.Continues) is not { } next) return null;
            copy = next;
        }
        return copy;
    }

    /// <summary>
    /// Whether a Strict copy may be cached: it is at least as new as every revocation and own write seen, its lease's
    /// term is current, and no newer copy is cached. Called under the lock.
    /// </summary>
    private bool Admits(Fence fence, CachedPage copy)
    {
        if (copy.Version < fence.Revoked || !IsCurrent(copy.Lease!)) return false;
        // A whole copy replaces a partial one of its own version.
        if (_entries.TryGetValue(copy.Page, out var cached) && cached.Lease == copy.Lease
            && (cached.Version > copy.Version || cached.Version == copy.Version && cached.IsWhole)) return false;
        copy.Lease!.Representative = copy.Page;
        return true;
    }

    /// <summary>
    /// Drops the copy of <paramref name="page"/> if it is older than <paramref name="version"/>, and keeps fills in
    /// flight from installing one. Given the <paramref name="hole"/> that alone the write making
    /// <paramref name="version"/> changed, a Strict copy of the version before stays instead, as a copy of this version
    /// that serves every other byte it served (see <see cref="CachedPage.Revoked"/>; with the hole's new
    /// <paramref name="bytes"/>, it serves them too from the next revocation on), unless it lacks
    /// <see cref="CachedPage.MaxBlockedRanges"/> ranges already; with no copy but a fill in flight, the hole is
    /// remembered for the fill's copy. Returns whether a copy of this version or a newer one is kept (or may be, once
    /// the fill lands), which tells the page whether this session still holds the page.
    /// </summary>
    public bool Revoke(long page, long version, (int Offset, int Length)? hole = null, byte[]? bytes = null)
    {
        var revocation = hole is var (offset, length) ? new PageRevocation(page, version, offset, length, bytes) : new PageRevocation(page, version, 0, 0, null);
        lock (_gate) return RevokeLocked(revocation);
    }

    /// <summary>
    /// <see cref="Revoke(long, long, ValueTuple{int, int}?, byte[])"/> for each of a call's revocations, in order, under
    /// one taking of the lock (a batch carries several, and the lock is contended by this client's reads and writes). A
    /// revocation that continues a run (<see cref="PageRevocation.Continues"/>) steps the copy the one before it left,
    /// keeping the bytes held back by each.
    /// </summary>
    public bool[] Revoke(PageRevocation[] revocations)
    {
        var kept = new bool[revocations.Length];
        lock (_gate)
        {
            for (var i = 0; i < revocations.Length; i++) kept[i] = RevokeLocked(revocations[i]);
        }
        return kept;
    }

    private bool RevokeLocked(PageRevocation revocation)
    {
        var (page, version, _, _, bytes, continues) = revocation;
        (int Offset, int Length)? hole = revocation.Length == 0 ? null : (revocation.Offset, revocation.Length);
        Metrics.InvalidationReceived();
        if (_fences.TryGetValue(page, out var fence)) (fence.Revoked, fence.RevokedByPage) = (Math.Max(fence.Revoked, version), Math.Max(fence.RevokedByPage, version));
        if (!_entries.TryGetValue(page, out var entry))
        {
            // A fill in flight may bring the version before: it will be cached as this one, without the hole.
            if (hole is (var start, var size) && fence is { Fills: > 0 } && fence.Holes.Count < CachedPage.MaxBlockedRanges)
            {
                fence.Holes.Add(new Hole(version, start, start + size, bytes, continues));
                return true;
            }
            return false;
        }
        // A run counts once toward the revocations a copy went through unread, at its first revocation (which may be of
        // this client's own write, and find the copy current already).
        if (!continues) entry.CountRevocation();
        if (entry.Version >= version) return true;
        // With none of this client's writes in flight, every range the copy lacks was revoked: a hole inside one of
        // them costs nothing more (a hot element written again and again does not use up the copy). A copy that went
        // unread through several revocations goes instead: each write to the page waits for this client's answer,
        // which buys nothing while nobody reads the copy (a client that only adds to an element it read once, say).
        if (hole is (var offset, var length) && entry.Version == version - 1 && entry.Lease is not null && entry.UnreadRevocations <= CachedPage.UnreadRevocationsKept
            && entry.Revoked(version, offset, length, bytes, lackedAlready: fence is not { Writes: > 0 }, continues) is { } kept)
        {
            Replace(page, entry, kept);
            return true;
        }
        Remove(page, entry);
        return false;
    }

    /// <summary>
    /// Before this client writes <paramref name="range"/> of a page (the whole page when null): the copy stops serving
    /// the written range, or goes altogether when the write covers the whole page or the copy lacks too many ranges
    /// already, and a fill that lands while the write runs is cached without it (see <see cref="Admitted"/>). The copy
    /// as it was is kept as the basis the write's own change may apply to.
    /// </summary>
    public void BeginWrite(long page, (int Offset, int Length)? range = null)
    {
        lock (_gate)
        {
            if (!_fences.TryGetValue(page, out var fence)) _fences[page] = fence = new Fence();
            fence.Writes++;
            fence.WritesStarted++;
            if (range is (var offset, var length) && fence.Writing.Count < CachedPage.MaxBlockedRanges) fence.Writing.Add((offset, offset + length));
            else fence.RefusesFills = true;
            _entries.TryGetValue(page, out var entry);
            // With two own writes in flight, neither knows which the other's change follows.
            fence.Basis = fence.Writes == 1 ? entry : null;
            if (entry is null) return;
            // The other bytes of the page stay readable: only another session's write changes them, and it revokes the copy.
            if (range is (var start, var size) && entry.BlockedRanges < CachedPage.MaxBlockedRanges) Replace(page, entry, entry.Blocking(start, size));
            else Remove(page, entry);
        }
    }

    /// <summary>
    /// Whether <see cref="EndWrite"/> of the write in flight on <paramref name="page"/> could use a change: it is the
    /// page's only write and a copy was cached when it began. A caller that must copy bytes to describe its change
    /// asks first; a false answer is final, a true one may still come to nothing.
    /// </summary>
    public bool MayUpdateInPlace(long page)
    {
        lock (_gate) return _fences.TryGetValue(page, out var fence) && fence is { Writes: 1, Basis: not null };
    }

    /// <summary>
    /// After this client's write of <paramref name="range"/> of a page (the whole page when null; as given to
    /// <see cref="BeginWrite"/>): fills still in flight may install only copies at least as new as the version the
    /// write produced (all of them refused when the write failed and its version is unknown). A Strict copy takes the
    /// write's <paramref name="change"/> as soon as it is the version just before (nobody else can have written in
    /// between), along with the changes of this client's writes that returned before it, in version order, and serves
    /// the range of each write it holds again, while other writes of the page are still in flight; once none is, a copy
    /// that is not as new as every write and revocation seen goes. A copy dropped when a whole-page write began is
    /// brought up to date the same way. A Bounded copy stays, serving a write's bytes from its change unless another of
    /// this client's writes in flight meanwhile overlapped it (the page chose their order; those ranges stay lacked).
    /// </summary>
    public void EndWrite(long page, (int Offset, int Length)? range, long? version, PageChange? change = null)
    {
        lock (_gate)
        {
            var fence = _fences[page];
            fence.Writes--;
            // A revocation at or past the written version came from a page that counted this client's copy as older
            // than the write (its record of the copy was replaced by a fill's meanwhile) and has stopped tracking it:
            // a copy made here would never be revoked again.
            var revokedPastWrite = version is { } produced && fence.RevokedByPage >= produced;
            fence.Revoked = Math.Max(fence.Revoked, version ?? long.MaxValue);
            _entries.TryGetValue(page, out var current);
            (int Start, int End)? written = range is var (offset, length) ? (offset, offset + length) : null;
            if (current is { Lease: null })
            {
                // A Bounded copy has no version to bring up to date, and stays: it serves the bytes the writes left alone,
                // no older than they were, and a write's bytes from its own change (the write took effect after the copy
                // was read, so within its bound). Writes that overlapped in flight leave their ranges unserved, since
                // the page chose their order; the next read of them fetches the page again. Dropping the copy had
                // every own write of a hot page cost a fetch.
                if (change is not null && written is { } own && !OverlapsAnother(fence.Writing, own)
                    && fence.Writing.Remove(own) && current.Changed(current.Version, change) is { } updated)
                    Replace(page, current, updated.Without([own]));
            }
            else if (current is not null)
            {
                if (version is { } made && written is { } own && !revokedPastWrite)
                    current = CaughtUp(page, fence, current, new ReturnedWrite(made, own, change));
                // No write in flight: the copy serves the ranges of the writes it holds; one that is not as new as every
                // write and revocation seen (a write failed, or a change is missing) goes.
                if (fence.Writes == 0)
                {
                    if (current.Version >= fence.Revoked) Replace(page, current, current.Without([.. fence.Writing]));
                    else Remove(page, current);
                }
            }
            // No copy was kept (the write covered the whole page): the one it began with may be brought up to date,
            // if it is a Strict copy (a Bounded one has no version to check the write's against).
            else if (fence.Writes == 0 && version is { } made && change is not null && fence.Basis is { Lease: not null } basis && basis.Version == made - 1
                && !revokedPastWrite && basis.Changed(made, change) is { } updated && Admits(fence, updated))
            {
                Install(updated);
                Metrics.Updated();
            }
            if (fence.Writes == 0)
            {
                (fence.Basis, fence.RefusesFills) = (null, false);
                fence.Writing.Clear();
                fence.Returned = null;
            }
            ForgetIfIdle(page, fence);
        }
    }

    /// <summary>
    /// <paramref name="current"/>, a Strict copy, brought through the change of <paramref name="returned"/>, this
    /// client's write of the page that just returned, and of those that returned before it and wait in the fence, in
    /// version order, as far as they follow on from its version; each write the copy then holds (through its change, or
    /// revocations that stepped the copy past it) is forgotten, and its range served again. A lone write, the usual
    /// case, is taken at once and never waits. Called under the lock.
    /// </summary>
    private CachedPage CaughtUp(long page, Fence fence, CachedPage current, ReturnedWrite returned)
    {
        var copy = current;
        if (!Took(fence, ref copy, returned)) (fence.Returned ??= []).Add(returned);
        // A write taken may let one that returned before it follow; one that waits may have been stepped past.
        for (var progressed = fence.Returned is { Count: > 0 }; progressed; )
        {
            progressed = false;
            for (var i = fence.Returned!.Count - 1; i >= 0; i--)
            {
                if (!Took(fence, ref copy, fence.Returned[i])) continue;
                fence.Returned.RemoveAt(i);
                progressed = true;
            }
        }
        if (copy != current) Replace(page, current, copy);
        return copy;
    }

    /// <summary>
    /// Whether <paramref name="copy"/> holds <paramref name="write"/>, already or once brought to it by the write's
    /// change (then <paramref name="copy"/> is that copy); if so, the write's range is served again. Called under the lock.
    /// </summary>
    private bool Took(Fence fence, ref CachedPage copy, ReturnedWrite write)
    {
        if (write.Version > copy.Version)
        {
            // Only the version just after the copy's follows on from it. A revocation of this version or a newer one
            // would have stepped the copy past it, or dropped it; and a copy from a lease term the silo has ended is not
            // worth bringing up to date.
            if (write.Version != copy.Version + 1 || write.Change is null || fence.RevokedByPage >= write.Version
                || !IsCurrent(copy.Lease!) || copy.Changed(write.Version, write.Change) is not { } next) return false;
            copy = next;
            Metrics.Updated();
        }
        if (fence.Writing.Remove(write.Range)) copy = copy.Without([write.Range]);
        return true;
    }

    /// <summary>Whether <paramref name="range"/> overlaps a range of <paramref name="writing"/> other than one occurrence of itself.</summary>
    private static bool OverlapsAnother(List<(int Start, int End)> writing, (int Start, int End) range)
    {
        var self = false;
        foreach (var other in writing)
        {
            if (other == range && !self) self = true;
            else if (other.Start < range.End && range.Start < other.End) return true;
        }
        return false;
    }

    /// <summary>Forgets a page's fence once no fill or write of it is in flight. Called under the lock.</summary>
    private void ForgetIfIdle(long page, Fence fence)
    {
        if (fence is { Fills: 0, Writes: 0, Basis: null }) _fences.Remove(page);
    }

    /// <summary>Bookkeeping for one page while fills or own writes of it are in flight.</summary>
    private sealed class Fence
    {
        /// <summary>Fills of the page in flight.</summary>
        public int Fills;

        /// <summary>This client's writes of the page in flight.</summary>
        public int Writes;

        /// <summary>This client's writes of the page started while the fence existed.</summary>
        public long WritesStarted;

        /// <summary>No copy older than this version may be installed.</summary>
        public long Revoked;

        /// <summary>The newest version a revocation named (<see cref="Revoked"/> also counts this client's own writes).</summary>
        public long RevokedByPage;

        /// <summary>
        /// This client's writes of the page that returned while others were in flight, which the copy has not caught up
        /// with; created by the first (a lone write never waits here).
        /// </summary>
        public List<ReturnedWrite>? Returned;

        /// <summary>
        /// The copy cached when this client's only write of the page began: if the write dropped it (a whole-page
        /// write), the write's own change may bring it up to date.
        /// </summary>
        public CachedPage? Basis;

        /// <summary>The ranges this client's writes of the page have written since none was in flight; a copy fetched meanwhile does not serve them.</summary>
        public readonly List<(int Start, int End)> Writing = [];

        /// <summary>Whether no copy fetched meanwhile may be cached: one of those writes covers the whole page, or they are too many to list.</summary>
        public bool RefusesFills;

        /// <summary>The ranges (and bytes, when sent) that revocations of versions newer than any copy cached named while fills were in flight.</summary>
        public readonly List<Hole> Holes = [];
    }

    /// <summary>One of this client's writes that returned: the version it made, the range it wrote and, when known, its change.</summary>
    private readonly record struct ReturnedWrite(long Version, (int Start, int End) Range, PageChange? Change);

    /// <summary>What the write making <see cref="Version"/> changed: bytes [Start, End), to <see cref="Bytes"/> when the revocation sent them.</summary>
    private readonly record struct Hole(long Version, int Start, int End, byte[]? Bytes, bool Continues);
}
