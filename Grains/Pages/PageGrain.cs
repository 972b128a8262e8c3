using System.IO.Hashing;
using OrleansDsm.Caching;
using OrleansDsm.Grains.Caching;
using OrleansDsm.Grains.Hosting;
using OrleansDsm.Grains.Persistence;
using OrleansDsm.Grains.Serving;
using OrleansDsm.Pages;

namespace OrleansDsm.Grains.Pages;

/// <summary>
/// One page of the address space. Orleans runs reads and fills side by side, never beside a free; writes interleave
/// with everything, so that concurrent writes share storage writes (see <see cref="PageCommits"/>). Each write applies
/// in one turn of the grain's thread, which is what makes it atomic; it is acknowledged once stored. A page that was
/// never written keeps no bytes in memory and no record in storage: it reads as zeros until its first write. Before
/// its first write, or its first fill into a client cache, the page registers with its region, so that freeing the
/// region finds it. Before a stored write becomes visible, the page revokes the copies older than it that other
/// sessions cache, or from a copy of the version just before it only the bytes it wrote (see <see cref="CacheHolders"/>).
/// </summary>
[Placement.PagePlacement]
internal sealed partial class PageGrain : Grain, IPageGrain, PageCommits.IPublisher, IGrainMigrationParticipant
{
    private readonly DirectState<PageState> _stored;
    private readonly PageServices _silo;
    // Made on the first fill and the first wait: most pages are never cached or waited on.
    private CacheHolders? _holders;
    private ChangeWaiters? _waiters;
    // Set as the activation starts to deactivate (see Leaving): a flush due after that is left to the deactivation, and
    // no wait for a change starts.
    private bool _retired;
    private PageCommits _commits = null!;
    private long _registeredEpoch;
    private Persistence.SingleFlight? _registering;
    private long _releasedEpoch;
    private bool _grantedLeases;
    private long _activatedAt;
    // Before these times (Environment.TickCount64) writes, and reads, wait: a crashed predecessor may have granted
    // leases until then. Reads wait only when storage may hold a write it stored but did not publish before it crashed.
    private long _writableAt;
    private long _readableAt;
    // Until when (Environment.TickCount64) the last read that was not a call asked Orleans to keep the page active.
    private long _readKeepsUntil;
    // The calls that interleave with nothing (a free, a drain's revocation) running now, and how many have started: a
    // fill on the page's turn that is not a call (see TryFillHere) gives way to them, as a fill call would wait.
    private int _exclusiveRunning;
    private long _exclusiveStarted;

    public PageGrain(PageServices silo)
    {
        _silo = silo;
        _stored = new DirectState<PageState>(silo.PageStorage, StorageNames.Pages, StateName, this.GetGrainId());
    }

    void IGrainMigrationParticipant.OnDehydrate(IDehydrationContext dehydrationContext) => _stored.Dehydrate(dehydrationContext);

    void IGrainMigrationParticipant.OnRehydrate(IRehydrationContext rehydrationContext) => _stored.Rehydrate(rehydrationContext);

    /// <summary>
    /// Reads and checks the stored record, then: a page whose last activation crashed may have copies in client caches
    /// that no one revoked, valid until their leases end; this activation's writes wait that out. A page with bytes
    /// knows from its stored mark (<see cref="PageState.LeasesMayBeOut"/>); a page without learns it from its region
    /// when it registers. A page with bytes and the mark also holds its reads and fills for that time: its predecessor
    /// may have stored a write and crashed before revoking the copies older than it, so a read of the stored bytes
    /// could come before a cached read of older ones. And a page activated soon after a silo died waits until that
    /// silo's serving lease has surely run out (see <see cref="ServingLease"/>): it may have been this page's home, cut
    /// off rather than dead, and still serving its copy.
    /// </summary>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await _stored.ReadAsync();
        _activatedAt = Environment.TickCount64;
        if (_stored.RecordExists) _stored.State.Verify(PageNumber, _silo.PageSize);
        _commits = new PageCommits(_stored, this, _silo.Metrics, writeBehind: _silo.WriteBehind > TimeSpan.Zero);
        if (_stored.RecordExists && _stored.State.LeasesMayBeOut)
        {
            WaitOutPredecessorLeases();
            _readableAt = _writableAt;
        }
        if (_silo.Serving.ActivationsHeldUntil > _activatedAt)
        {
            _writableAt = Math.Max(_writableAt, _silo.Serving.ActivationsHeldUntil);
            _readableAt = Math.Max(_readableAt, _silo.Serving.ActivationsHeldUntil);
        }
        _silo.Local.Add(PageNumber, this);
    }

    /// <summary>The name under which storage keeps a page's state (the name Orleans' persistent state gave it before).</summary>
    private const string StateName = "page";

    private long PageNumber => this.GetPrimaryKeyLong();

    public async Task<ulong> ReadElement(long epoch, int offset, int size, CancellationToken cancellation)
    {
        CheckElement(offset, size);
        await _silo.Regions.RequireLive(epoch, PageNumber, cancellation);
        if (_readableAt != 0) await WaitOutAsync(_readableAt);
        await _silo.Serving.RequireAsync(PageNumber);
        return BytesOf(_commits.Committed, epoch) is { } bytes ? PageAtomics.Load(bytes.AsSpan(offset, size)) : 0;
    }

    public async Task<Immutable<byte[]>> Read(long epoch, int offset, int length, CancellationToken cancellation)
    {
        CheckRange(offset, length);
        await _silo.Regions.RequireLive(epoch, PageNumber, cancellation);
        if (_readableAt != 0) await WaitOutAsync(_readableAt);
        await _silo.Serving.RequireAsync(PageNumber);
        return new(CommittedPiece(epoch, offset, length));
    }

    /// <summary>
    /// What <see cref="Read"/> answers, from another thread of this silo, when the page would answer at once: false
    /// when it would wait first (its predecessor crashed with leases out, or the silo's serving lease has run out).
    /// The caller has checked that the region is live, as <see cref="Read"/> does first. Orleans does not count such a
    /// read as use of the page, so the read keeps the page active itself, for at least as long as a call would have
    /// (see <see cref="KeepActiveAfterRead"/>).
    /// </summary>
    internal bool TryReadCommitted(long epoch, int offset, int length, out byte[] bytes)
    {
        CheckRange(offset, length);
        var now = Environment.TickCount64;
        if (_readableAt > now || !_silo.Serving.IsHeld)
        {
            bytes = [];
            return false;
        }
        bytes = CommittedPiece(epoch, offset, length);
        KeepActiveAfterRead(now);
        return true;
    }

    /// <summary>What <see cref="ReadElement"/> answers, from another thread of this silo, as <see cref="TryReadCommitted"/> is.</summary>
    internal bool TryReadElementCommitted(long epoch, int offset, int size, out ulong value)
    {
        CheckElement(offset, size);
        var now = Environment.TickCount64;
        if (_readableAt > now || !_silo.Serving.IsHeld)
        {
            value = 0;
            return false;
        }
        value = BytesOf(_commits.Committed, epoch) is { } bytes ? PageAtomics.Load(bytes.AsSpan(offset, size)) : 0;
        KeepActiveAfterRead(now);
        return true;
    }

    /// <summary>
    /// Keeps the page active for its idle timeout and a quarter more after a read made at <paramref name="now"/>
    /// from another thread. The keep-alive must be asked on the page's own turn, so it costs a task on the page's
    /// scheduler; it is asked again only once a quarter of the timeout has gone, so a page that range reads reach
    /// all the time queues four such tasks per timeout, not one a read, and every read still keeps it at least the
    /// timeout. Reads race here from many threads: a keep-alive asked twice is harmless.
    /// </summary>
    private void KeepActiveAfterRead(long now)
    {
        var timeout = _silo.PageIdleTimeout;
        var quarter = (long)timeout.TotalMilliseconds / 4;
        if (Volatile.Read(ref _readKeepsUntil) - now >= 4 * quarter) return;
        Volatile.Write(ref _readKeepsUntil, now + 5 * quarter);
        GrainContext.Scheduler.QueueTask(new Task(() =>
        {
            // Orleans refuses the keep-alive once the deactivation has finished.
            if (!_retired) DelayDeactivation(timeout + TimeSpan.FromMilliseconds(quarter));
        }));
    }

    /// <summary>Bytes [offset, offset + length) of the committed image.</summary>
    private byte[] CommittedPiece(long epoch, int offset, int length)
    {
        // A committed image never changes (see PageCommits), so a whole-page read may hand it out as it is.
        var bytes = BytesOf(_commits.Committed, epoch);
        if (bytes is null) return new byte[length];
        return length == bytes.Length ? bytes : bytes.AsSpan(offset, length).ToArray();
    }

    public async Task<PageCopy> Fill(long epoch, Guid session, ICacheHolder holder, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(holder);
        return (await FillAsync(epoch, session, holder, cancellation, hereOnly: false))!;
    }

    /// <summary>
    /// What <see cref="Fill"/> answers, asked from another thread of this silo (the direct channel's), on the page's
    /// own turn as <see cref="TryWriteHere"/> is. Null when the activation began to deactivate, or a call that fills
    /// wait for (a free, a drain's revocation) ran meanwhile: nothing was recorded, and the caller calls the page.
    /// </summary>
    internal Task<PageCopy?> TryFillHere(long epoch, Guid session, ICacheHolder holder) => QueueOnTurn(() =>
        TakesWorkHere() ? FillAsync(epoch, session, holder, CancellationToken.None, hereOnly: true) : Task.FromResult<PageCopy?>(null));

    /// <summary>Runs <paramref name="work"/> on the page's own turn, for a thread of this silo that is not a call.</summary>
    private Task<T> QueueOnTurn<T>(Func<Task<T>> work)
    {
        var turn = new Task<Task<T>>(work);
        GrainContext.Scheduler.QueueTask(turn);
        return turn.Unwrap();
    }

    /// <summary>
    /// Whether work that is not a call may start here, on the page's turn; if so, keeps the page active for as long as
    /// a call would (Orleans does not count such work as use). A page already deactivating takes none (and Orleans
    /// refuses the keep-alive once the deactivation has finished).
    /// </summary>
    private bool TakesWorkHere()
    {
        if (_retired) return false;
        DelayDeactivation(_silo.PageIdleTimeout);
        return true;
    }

    private async Task<PageCopy?> FillAsync(long epoch, Guid session, ICacheHolder holder, CancellationToken cancellation, bool hereOnly)
    {
        // A fill that is not a call interleaves with every call; those that interleave with nothing it must not meet.
        var exclusiveStarted = _exclusiveStarted;
        if (hereOnly && _exclusiveRunning > 0) return null;
        // First of all: every image made from now on, a first write's included, carries the mark.
        _grantedLeases = true;
        await _silo.Regions.RequireLive(epoch, PageNumber, cancellation);
        if (_readableAt != 0) await WaitOutAsync(_readableAt);
        if (BytesOf(_commits.Committed, epoch) is null) await RegisterWithRegionAsync(epoch);
        while (true)
        {
            // Storage must carry the mark before any copy is out if it holds, or may soon hold, bytes of this
            // activation: a crash after storing them and before revoking the copies is then seen.
            if (BytesOf(_commits.Latest, epoch) is not null && !_commits.Stored.LeasesMayBeOut) await MarkLeasesOutAsync();
            // A copy handed out while a newer image is being published would miss that image's revocations.
            else if (!_commits.Publication.IsCompleted) await _commits.Publication;
            else if (!_silo.Serving.IsHeld) await _silo.Serving.RequireAsync(PageNumber);
            else break;
        }
        // From here to the holder's record nothing waits, so nothing interleaves. One running at the start was refused
        // above; one that started while this waited has moved the count.
        if (hereOnly && (_retired || _exclusiveStarted != exclusiveStarted)) return null;
        var committed = _commits.Committed;
        var bytes = BytesOf(committed, epoch);
        var lease = _silo.Leases.Renew(session, holder);
        var version = bytes is null ? 0 : committed.Version;
        (_holders ??= new CacheHolders(_silo.Leases, _silo.Revocations, _silo.Metrics, _silo.SkipInvalidationForCheckerTests)).Add(session, holder, version);
        return new PageCopy(version, bytes, lease); // the committed image itself: it never changes
    }

    public async Task<bool> WaitForChange(long epoch, int offset, int size, ulong expected, TimeSpan wait, CancellationToken cancellation)
    {
        CheckElement(offset, size);
        if (wait < TimeSpan.Zero || wait > TimeSpan.FromSeconds(5))
            throw new ArgumentOutOfRangeException(nameof(wait), wait, "One wait for a change lasts from 0 to 5 s.");
        await _silo.Regions.RequireLive(epoch, PageNumber, cancellation);
        if (_readableAt != 0) await WaitOutAsync(_readableAt);
        await _silo.Serving.RequireAsync(PageNumber);
        var current = BytesOf(_commits.Committed, epoch) is { } bytes ? PageAtomics.Load(bytes.AsSpan(offset, size)) : 0;
        if (current != expected) return true;
        if (_retired) return false; // asked again, the wait goes to the next activation
        var changed = (_waiters ??= new()).Add(offset, size, expected);
        try
        {
            return await changed.WaitAsync(wait, cancellation);
        }
        catch (TimeoutException)
        {
            _waiters.Remove(changed);
            return false;
        }
        catch (OperationCanceledException)
        {
            _waiters.Remove(changed);
            throw;
        }
    }

    public Task<LeaseGrant> Renew(Guid session) => _silo.Serving.IsHeld
        ? Task.FromResult(_silo.Leases.Renew(session))
        : Task.FromException<LeaseGrant>(new SiloNotServingException($"This silo holds no serving lease, so it renews no cached copies (page {PageNumber})."));

    public async Task RevokeCopiesOlderThan(long version)
    {
        using var exclusive = Exclusive();
        if (_holders is not null) await _holders.RevokeOlderThanAsync(PageNumber, version);
    }

    /// <summary>Counts a call that interleaves with nothing as running until the returned scope ends (see <see cref="TryFillHere"/>).</summary>
    private ExclusiveScope Exclusive()
    {
        _exclusiveRunning++;
        _exclusiveStarted++;
        return new ExclusiveScope(this);
    }

    private readonly struct ExclusiveScope(PageGrain page) : IDisposable
    {
        public void Dispose() => page._exclusiveRunning--;
    }

    /// <summary>Whether some session caches a copy of the page; read from other threads of the silo, so only a hint.</summary>
    internal bool IsCached => _holders?.Count > 0;

    /// <summary>Whether this activation holds acknowledged writes storage does not have yet (write-behind).</summary>
    internal bool HoldsUnstoredWrites => _commits?.Idle == false;

    public async Task Release(long epoch)
    {
        using var exclusive = Exclusive();
        // Writes interleave with a free: from here they are refused, and those already applied are stored first.
        _releasedEpoch = Math.Max(_releasedEpoch, epoch);
        _waiters?.FailAll(new RegionFreedException($"The region of allocation epoch {epoch} has been freed."));
        await _commits.CommitAsync();
        await WaitOutPredecessorLeasesAsync();
        if (_holders is not null) await _holders.RevokeOlderThanAsync(PageNumber, long.MaxValue);
        var committed = _commits.Committed;
        if (_commits.CommittedExists && committed.Epoch == epoch)
        {
            await _stored.ClearAsync();
            _commits.Cleared(new PageState { LeasesMayBeOut = committed.LeasesMayBeOut });
        }
        DeactivateOnIdle();
    }

    /// <summary>
    /// Orleans has begun to deactivate this activation (to move it, say), which it finishes only once no call runs in
    /// it: the waits for a change end now, each answered as if its time were up, instead of holding the move and every
    /// call queued behind it for the rest of their time (up to 5 s). What is unstored is left to the deactivation, which
    /// stores it once the calls running now have ended. Called on the page's own turn.
    /// </summary>
    public void Leaving()
    {
        _retired = true;
        _waiters?.EndAll();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // First: from here another activation may start elsewhere and take writes this one would never see.
        _silo.Local.Remove(PageNumber, this);
        _retired = true;
        // Write-behind: what was acknowledged and not yet stored is stored now, so a graceful stop loses nothing.
        if (!_commits.Idle)
        {
            _silo.Losses.Storing();
            try
            {
                await _commits.CommitAsync();
                _silo.Losses.Stored();
            }
            catch (Exception error)
            {
                // Those writes are lost, as a crash would lose them (the write-behind window); the operator is told.
                _silo.Losses.Refused(PageNumber, error);
            }
        }
        // Holders learn the page is going, and storage that no lease is out, so the next activation owes them nothing.
        if (_holders is not null) await _holders.RevokeOlderThanAsync(PageNumber, long.MaxValue);
        // A page without a record keeps no mark: its region remembers it instead.
        if (!_commits.CommittedExists || !_commits.Latest.LeasesMayBeOut) return;
        _commits.Change().LeasesMayBeOut = false;
        try
        {
            await _commits.CommitAsync();
        }
        catch (Exception)
        {
            // Left set, the mark costs the next activation one lease of waiting before its first write; nothing worse.
        }
    }

    public Task<PageSummary> GetState()
    {
        var exists = _commits.CommittedExists;
        var state = _commits.Committed;
        var bytes = exists && state.Bytes.Length != 0 ? state.Bytes : new byte[_silo.PageSize];
        return Task.FromResult(new PageSummary(
            PageNumber,
            exists ? state.Epoch : 0,
            exists ? state.Version : 0,
            exists,
            Crc32.HashToUInt32(bytes),
            Convert.ToHexString(bytes.AsSpan(0, Math.Min(16, bytes.Length))),
            exists ? state.Bytes.Length : 0,
            _holders?.Count ?? 0,
            state.LastWriter,
            _silo.SiloAddress,
            _silo.DirectEndpoint));
    }

    /// <summary>The bytes <paramref name="image"/> holds for <paramref name="epoch"/>, or null when the page reads as zeros.</summary>
    private static byte[]? BytesOf(PageState image, long epoch)
    {
        if (image.Bytes.Length == 0) return null;
        if (image.Epoch == epoch) return image.Bytes;
        // Bytes of a newer allocation mean the caller's region was freed and the range reused; bytes of an older
        // one are left over from a free that did not finish, and belong to no live region.
        if (image.Epoch > epoch) throw new RegionFreedException($"The region of allocation epoch {epoch} has been freed.");
        return null;
    }

    /// <summary>
    /// Revokes the cached copies older than <paramref name="image"/>, which storage now holds, before it becomes the
    /// committed image. Fills wait meanwhile, so none can hand out an older copy that this revocation misses.
    /// </summary>
    async Task PageCommits.IPublisher.PublishAsync(PageState image)
    {
        var version = image.Bytes.Length == 0 ? 0 : image.Version;
        while (_holders?.AnyOlderThan(version) == true) await _holders.RevokeOlderThanAsync(PageNumber, version);
    }

    /// <summary>Stores that this activation may grant leases, before it grants the first: a crash after it is then seen.</summary>
    private Task MarkLeasesOutAsync()
    {
        if (!_commits.Latest.LeasesMayBeOut) _commits.Change().LeasesMayBeOut = true;
        return _commits.CommitAsync();
    }

    private void WaitOutPredecessorLeases() =>
        _writableAt = Math.Max(_writableAt, _activatedAt + (long)_silo.CacheLease.TotalMilliseconds);

    /// <summary>Waits until leases a crashed predecessor may have granted have run out; at once otherwise.</summary>
    private Task WaitOutPredecessorLeasesAsync() => WaitOutAsync(_writableAt);

    private static Task WaitOutAsync(long until)
    {
        var left = until - Environment.TickCount64;
        return left > 0 ? Task.Delay(TimeSpan.FromMilliseconds(left)) : Task.CompletedTask;
    }

    /// <summary>
    /// Durably registers this page with allocation <paramref name="epoch"/>, once per activation. A page without bytes
    /// that its region already knows was cached by an earlier activation, which may have crashed with leases out.
    /// </summary>
    private async Task RegisterWithRegionAsync(long epoch)
    {
        // Callers that overlap (fills are read-only, so they interleave) share one registration: a second RecordTouched
        // would find the first's record and take it for a predecessor's, and hold writes up for a lease.
        while (_registeredEpoch != epoch) await (_registering ??= new()).JoinAsync(() => RegisterOnceAsync(epoch));
    }

    private async Task RegisterOnceAsync(long epoch)
    {
        if (await _silo.Regions.Allocation(epoch).RecordTouched(PageNumber) && BytesOf(_commits.Committed, epoch) is null)
            WaitOutPredecessorLeases();
        _registeredEpoch = epoch;
    }

    private void CheckElement(int offset, int size)
    {
        if (size is not (1 or 2 or 4 or 8))
            throw new ArgumentOutOfRangeException(nameof(size), size, "An element is 1, 2, 4 or 8 bytes.");
        CheckRange(offset, size);
        if (offset % size != 0)
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"An element of {size} bytes must be aligned to its size.");
    }

    private void CheckRange(int offset, int length)
    {
        if (offset < 0 || offset >= _silo.PageSize)
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"An offset lies within the {_silo.PageSize}-byte page.");
        if (length <= 0 || length > _silo.PageSize - offset)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"The range at offset {offset} must fit in the {_silo.PageSize}-byte page.");
    }
}
