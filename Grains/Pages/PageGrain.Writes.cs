using OrleansDsm.Locks;
using OrleansDsm.Pages;

namespace OrleansDsm.Grains.Pages;

// The page's mutations: every write and atomic applies in one turn of the grain's thread to the pending image, and is
// acknowledged once stored (or, with write-behind, once published, with storage catching up within the interval).
// Writes made under a lock hold are refused once that hold has ended.
internal sealed partial class PageGrain
{
    // With write-behind: whether a flush is due, and since when (Environment.TickCount64) some acknowledged change may
    // be unstored (0 when none).
    private bool _flushDue;
    private long _unstoredSince;
    // The last lock hold a fenced write proved current, and until when (Environment.TickCount64) it surely stays so:
    // later writes under the same hold skip asking the lock again.
    private (string Lock, long Token, long ValidUntil)? _fence;

    public Task<long> WriteElement(long epoch, RequestId request, int offset, int size, ulong value, CancellationToken cancellation) =>
        WriteElementAsync(epoch, request, offset, size, value, cancellation, hereOnly: false);

    private async Task<long> WriteElementAsync(long epoch, RequestId request, int offset, int size, ulong value, CancellationToken cancellation, bool hereOnly)
    {
        CheckElement(offset, size);
        return (await MutateAsync(epoch, request, offset, size, value, static (element, value) =>
        {
            PageAtomics.Store(element, value);
            return 0UL;
        }, cancellation, hereOnly: hereOnly)).Version;
    }

    /// <summary>
    /// What <see cref="Write"/> answers, asked from another thread of this silo: the write runs on the page's own turn,
    /// as the call would (writes interleave, so it interleaves the same way), without the call's two messages, which
    /// took most of a 64 MiB range write's time. Null when this activation began to deactivate before the write
    /// applied: nothing was written, and the caller calls the page instead, which Orleans sends to its next activation.
    /// Orleans does not count such a write as use of the page, so the write keeps the page active itself, for as long
    /// as a call would have (the page's idle timeout).
    /// </summary>
    internal Task<long?> TryWriteHere(long epoch, RequestId request, int offset, byte[] bytes) =>
        OnTurnHere(() => WriteAsync(epoch, request, offset, bytes, CancellationToken.None, hereOnly: true));

    /// <summary>What <see cref="WriteElement"/> answers, asked from another thread of this silo, as <see cref="TryWriteHere"/> is.</summary>
    internal Task<long?> TryWriteElementHere(long epoch, RequestId request, int offset, int size, ulong value) =>
        OnTurnHere(() => WriteElementAsync(epoch, request, offset, size, value, CancellationToken.None, hereOnly: true));

    /// <summary>What <see cref="Add"/> answers, asked from another thread of this silo, as <see cref="TryWriteHere"/> is.</summary>
    internal Task<ElementUpdate?> TryAddHere(long epoch, RequestId request, int offset, NumericKind kind, ulong delta) =>
        OnTurnHere(() => AddAsync(epoch, request, offset, kind, delta, CancellationToken.None, hereOnly: true));

    /// <summary>What <see cref="Exchange"/> answers, asked from another thread of this silo, as <see cref="TryWriteHere"/> is.</summary>
    internal Task<ElementUpdate?> TryExchangeHere(long epoch, RequestId request, int offset, int size, ulong value) =>
        OnTurnHere(() => ExchangeAsync(epoch, request, offset, size, value, CancellationToken.None, hereOnly: true));

    /// <summary>What <see cref="CompareExchange"/> answers, asked from another thread of this silo, as <see cref="TryWriteHere"/> is.</summary>
    internal Task<ElementUpdate?> TryCompareExchangeHere(long epoch, RequestId request, int offset, int size, ulong value, ulong comparand) =>
        OnTurnHere(() => CompareExchangeAsync(epoch, request, offset, size, value, comparand, CancellationToken.None, hereOnly: true));

    private Task<TResult?> OnTurnHere<TResult>(Func<Task<TResult>> write) where TResult : struct => QueueOnTurn(() => WriteHereAsync(write));

    private async Task<TResult?> WriteHereAsync<TResult>(Func<Task<TResult>> write) where TResult : struct
    {
        if (!TakesWorkHere()) return null;
        try
        {
            return await write();
        }
        catch (LeftBeforeApplying)
        {
            return null;
        }
    }

    public Task<long> Write(long epoch, RequestId request, int offset, byte[] bytes, CancellationToken cancellation) =>
        WriteAsync(epoch, request, offset, bytes, cancellation, hereOnly: false);

    private async Task<long> WriteAsync(long epoch, RequestId request, int offset, byte[] bytes, CancellationToken cancellation, bool hereOnly)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        CheckRange(offset, bytes.Length);
        // A write of the whole page becomes the page's image as it is (the contract lets the page keep the array).
        return (await MutateAsync(epoch, request, offset, bytes.Length, bytes, static (range, bytes) =>
        {
            if (!range.Overlaps(bytes)) bytes.CopyTo(range);
            return 0UL;
        }, cancellation, wholePage: bytes.Length == _silo.PageSize ? bytes : null, hereOnly)).Version;
    }

    public async Task<long> WriteRuns(long epoch, RequestId request, ByteRun[] runs, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(runs);
        if (runs.Length == 0) throw new ArgumentException("A write of runs carries at least one run.", nameof(runs));
        var (start, end) = (int.MaxValue, 0);
        foreach (var run in runs)
        {
            if (run.Bytes is null) throw new ArgumentException($"The run at offset {run.Offset} has no bytes.", nameof(runs));
            CheckRange(run.Offset, run.Bytes.Length);
            (start, end) = (Math.Min(start, run.Offset), Math.Max(end, run.Offset + run.Bytes.Length));
        }
        return (await MutateAsync(epoch, request, start, end - start, (runs, start), static (range, operand) =>
        {
            foreach (var run in operand.runs) run.Bytes.CopyTo(range[(run.Offset - operand.start)..]);
            return 0UL;
        }, cancellation)).Version;
    }

    public Task<ElementUpdate> Add(long epoch, RequestId request, int offset, NumericKind kind, ulong delta, CancellationToken cancellation) =>
        AddAsync(epoch, request, offset, kind, delta, cancellation, hereOnly: false);

    private Task<ElementUpdate> AddAsync(long epoch, RequestId request, int offset, NumericKind kind, ulong delta, CancellationToken cancellation, bool hereOnly)
    {
        var size = PageAtomics.SizeOf(kind);
        CheckElement(offset, size);
        return MutateAsync(epoch, request, offset, size, (kind, delta),
            static (element, operands) => PageAtomics.Add(element, operands.kind, operands.delta), cancellation, hereOnly: hereOnly);
    }

    public Task<ElementUpdate> Exchange(long epoch, RequestId request, int offset, int size, ulong value, CancellationToken cancellation) =>
        ExchangeAsync(epoch, request, offset, size, value, cancellation, hereOnly: false);

    private Task<ElementUpdate> ExchangeAsync(long epoch, RequestId request, int offset, int size, ulong value, CancellationToken cancellation, bool hereOnly)
    {
        CheckElement(offset, size);
        return MutateAsync(epoch, request, offset, size, value, static (element, value) =>
        {
            var original = PageAtomics.Load(element);
            PageAtomics.Store(element, value);
            return original;
        }, cancellation, hereOnly: hereOnly);
    }

    public Task<ElementUpdate> CompareExchange(long epoch, RequestId request, int offset, int size, ulong value, ulong comparand, CancellationToken cancellation) =>
        CompareExchangeAsync(epoch, request, offset, size, value, comparand, cancellation, hereOnly: false);

    private Task<ElementUpdate> CompareExchangeAsync(long epoch, RequestId request, int offset, int size, ulong value, ulong comparand, CancellationToken cancellation,
        bool hereOnly)
    {
        CheckElement(offset, size);
        return MutateAsync(epoch, request, offset, size, (value, comparand), static (element, operands) =>
        {
            var original = PageAtomics.Load(element);
            if (original == operands.comparand) PageAtomics.Store(element, operands.value);
            return original;
        }, cancellation, hereOnly: hereOnly);
    }

    private void RequireUnreleased(long epoch)
    {
        if (epoch <= _releasedEpoch) throw new RegionFreedException($"The region of allocation epoch {epoch} has been freed.");
    }

    /// <summary>
    /// Applies <paramref name="mutate"/> to bytes [offset, offset + length) of the pending image, in one turn, and
    /// returns once a storage write carrying it has committed. A request already applied gets its first result back.
    /// With <paramref name="wholePage"/>, the pending image takes that array as its bytes first, uncopied.
    /// <paramref name="hereOnly"/> marks a write that is not a call (see <see cref="TryWriteHere"/>): Orleans does not
    /// wait for it before it deactivates the page, so it applies only if the page has not begun to deactivate by the
    /// turn that applies it, and throws <see cref="LeftBeforeApplying"/> otherwise. A deactivation that begins after it
    /// applied stores it.
    /// </summary>
    private async Task<ElementUpdate> MutateAsync<TOperand>(
        long epoch, RequestId request, int offset, int length, TOperand operand,
        Func<Span<byte>, TOperand, ulong> mutate, CancellationToken cancellation, byte[]? wholePage = null, bool hereOnly = false)
    {
        await _silo.Regions.RequireLive(epoch, PageNumber, cancellation);
        RequireUnreleased(epoch);
        if (BytesOf(_commits.Latest, epoch) is null)
        {
            if (_silo.Memory.RefusalReason() is { } full)
                throw new MemoryPressureException($"{full}: page {PageNumber} is not written, so the write was refused. Free regions or add silos, then try again.");
            await RegisterWithRegionAsync(epoch);
        }
        await WaitOutPredecessorLeasesAsync();
        var fenceValidUntil = request.Fence is { } fence && _commits.Latest.Applied(request) is null ? await ValidateFenceAsync(fence) : 0;
        await _silo.Serving.RequireAsync(PageNumber);
        RequireUnreleased(epoch);
        if (_commits.Latest.Applied(request) is { } done)
        {
            await AcknowledgeAsync();
            return new ElementUpdate(done.Value, done.Version);
        }
        if (_commits.Latest.MayHaveForgotten(request))
            throw new RequestOutcomeForgottenException(
                $"Mutation {request.Sequence} of session {request.Session} reached page {PageNumber} after it had forgotten that session's mutations up to there ({PageState.RecentRequests} later ones were applied meanwhile): it may have been applied, so it is not applied again.");

        // In the turn that applies it: the hold was proved current, and still surely is. Each write keeps its own
        // proof, so writes under other locks interleaving here cannot make it refused.
        if (request.Fence is { } held && Environment.TickCount64 >= fenceValidUntil) throw LockLost(held);
        if (hereOnly && _retired) throw new LeftBeforeApplying();
        var fresh = BytesOf(_commits.Latest, epoch) is null;
        var image = _commits.Change(wholePage);
        if (fresh)
        {
            image.ForgetAll();
            (image.Epoch, image.Version, image.Bytes) = (epoch, 0, wholePage ?? new byte[_silo.PageSize]);
            image.LeasesMayBeOut |= _grantedLeases;
        }
        var result = mutate(image.Bytes.AsSpan(offset, length), operand);
        var version = ++image.Version;
        image.Remember(request, result);
        _holders?.Wrote(request.Session, version);
        // A write of the whole page leaves nothing of an older copy worth keeping.
        _holders?.Changed(version, offset, length < _silo.PageSize ? length : 0, image.Bytes);
        await AcknowledgeAsync();
        // Waiters learn of the change only now that it is what reads see.
        if (_commits.Committed.Bytes.Length != 0) _waiters?.Committed(_commits.Committed.Bytes);
        return new ElementUpdate(result, version);
    }

    /// <summary>
    /// Waits for the storage write that carries every change so far; if it fails, the page starts afresh. With
    /// write-behind, waits only until every change so far is published, and has storage catch up within the interval;
    /// but once the oldest unstored change is two intervals old (storage failing or slow), it waits for storage too.
    /// </summary>
    private async Task AcknowledgeAsync()
    {
        if (_silo.WriteBehind > TimeSpan.Zero)
        {
            var now = Environment.TickCount64;
            if (_unstoredSince == 0) _unstoredSince = now;
            if (now - _unstoredSince <= 2 * (long)_silo.WriteBehind.TotalMilliseconds)
            {
                await _commits.ShowAsync();
                ScheduleFlush();
                return;
            }
        }
        try
        {
            await _commits.CommitAsync();
            if (_commits.Idle) _unstoredSince = 0;
        }
        catch
        {
            // Write-through dropped the failed changes: the page starts afresh from storage. Write-behind keeps them
            // published, and its flush tries again.
            if (_silo.WriteBehind > TimeSpan.Zero) ScheduleFlush();
            else DeactivateOnIdle();
            throw;
        }
    }

    private void ScheduleFlush()
    {
        if (_flushDue) return;
        _flushDue = true;
        _ = FlushAfterIntervalAsync();
    }

    /// <summary>
    /// Write-behind's flush, one interval from now, on this activation's turn (an await inside a grain resumes on its
    /// scheduler, interleaved with calls). Not a grain timer: registering one gives the activation a timer table that
    /// stays for its life, about 450 B, which every written page of a silo would pay. Unlike a timer it does not keep
    /// the page active, and needs not: a deactivation stores whatever is unstored before it ends.
    /// </summary>
    private async Task FlushAfterIntervalAsync()
    {
        await Task.Delay(_silo.WriteBehind);
        _flushDue = false;
        if (!_retired) await FlushAsync();
    }

    /// <summary>
    /// Stores what was published. A failed storage write is tried again one interval later; a stale one (another
    /// activation wrote the page) retires this activation, whose unstored writes are then lost. Never throws.
    /// </summary>
    private async Task FlushAsync()
    {
        var started = Environment.TickCount64;
        try
        {
            await _commits.StoreShownAsync();
            // Changes published after the flush took its image are younger than its start.
            _unstoredSince = _commits.Idle ? 0 : started;
        }
        catch (Orleans.Storage.InconsistentStateException)
        {
            DeactivateOnIdle();
            return;
        }
        catch (Exception)
        {
            // Storage unavailable: the next flush tries again, and writes wait for storage once it has lagged two intervals.
        }
        if (!_commits.Idle) ScheduleFlush();
    }

    /// <summary>
    /// Proves that <paramref name="fence"/> is its lock's current hold, asking the lock unless a recent answer still
    /// covers it, and returns until when (<see cref="Environment.TickCount64"/>) the proof holds: until the hold's lease
    /// would end, counted from when the question was sent. The lock grants nobody else before then unless the holder
    /// releases, and a holder releases only after its writes return.
    /// </summary>
    private async Task<long> ValidateFenceAsync(LockFence fence)
    {
        if (_fence is { } known && known.Lock == fence.Lock && known.Token == fence.Token && Environment.TickCount64 < known.ValidUntil)
            return known.ValidUntil;
        var sentAt = Environment.TickCount64;
        var remaining = (long)(await GrainFactory.GetGrain<ILockGrain>(fence.Lock).Validate(fence.Token)).TotalMilliseconds;
        if (remaining <= 0) throw LockLost(fence);
        var validUntil = sentAt + remaining - Math.Min(50, remaining / 10) - 5;
        _fence = (fence.Lock, fence.Token, validUntil);
        return validUntil;
    }

    private LockLostException LockLost(LockFence fence) => new(
        $"Page {PageNumber} refused a write made under lock '{fence.Lock}' with token {fence.Token}: that hold has ended (its lease ran out or it was released), so another holder may have the lock.");

    /// <summary>A write that is not a call found the page deactivating before it applied, and wrote nothing.</summary>
    private sealed class LeftBeforeApplying : Exception;
}
