using Orleans.Placement;
using OrleansDsm.Grains.Hosting;
using OrleansDsm.Locks;

namespace OrleansDsm.Grains.Locks;

/// <summary>
/// A named lock. Grants are answered without a storage write: storage holds a ceiling on the tokens granted, raised a
/// block at a time (and whenever a grant's lease is longer than any stored), so tokens only grow, even across crashes,
/// at one write per <see cref="TokenBlock"/> grants. Storage also says whether the lock may be held: it says so from
/// the first grant of an activation until a deactivation that finds the lock free, so an activation after a crash
/// counts the lock as held for the longest stored lease from its own start. A deactivation that finds the lock held
/// stores that hold, and the next activation carries it on, so a holder keeps its lock across a silo's graceful stop.
/// Releases change memory only. The lease runs on this silo's monotonic clock from when the grant or renewal was made.
/// Waiters are not queued in order: whoever asks first once the lock is free gets it.
/// </summary>
// Stays where it started when pages are rebalanced: a move would hold up every waiting acquirer and gains nothing.
[Immovable]
internal sealed class LockGrain([PersistentState("lock", StorageNames.Regions)] IPersistentState<LockState> stored) : Grain, ILockGrain
{
    /// <summary>How many tokens one storage write reserves.</summary>
    internal const long TokenBlock = 1024;
    private static readonly TimeSpan LongestWait = TimeSpan.FromSeconds(10);
    private long _token;
    private Guid _holder;
    private TimeSpan _lease;
    private long _leaseEnds;
    // The request of the latest grant: it is granted once, and sent again gets that grant while it lasts (a deactivation
    // that finds the lock held stores it with the hold).
    private Guid _grantedRequest;
    // Completed and replaced when the lock is released or granted, waking the requests that wait.
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _granting;
    // Storage writes one at a time, each changing the stored state only once it holds this.
    private readonly SemaphoreSlim _writes = new(1, 1);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // The hold a deactivation left, by its own token; after a crash, whoever may hold it, above every token granted.
        _token = stored.State.HeldToken != 0 ? stored.State.HeldToken : stored.State.Token;
        if (stored.State.Holder != Guid.Empty)
            (_holder, _lease, _leaseEnds) = (stored.State.Holder, stored.State.Lease, Environment.TickCount64 + (long)stored.State.Lease.TotalMilliseconds);
        if (stored.State.HeldToken != 0) _grantedRequest = stored.State.HeldRequest;
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        var (holder, heldToken, heldRequest) = Free ? (Guid.Empty, 0L, Guid.Empty) : (_holder, _token, _grantedRequest);
        if (stored.State.Holder == holder && stored.State.HeldToken == heldToken) return;
        await _writes.WaitAsync(cancellationToken);
        var previous = (stored.State.Holder, stored.State.Lease, stored.State.HeldToken, stored.State.HeldRequest);
        try
        {
            (stored.State.Holder, stored.State.HeldToken, stored.State.HeldRequest) = (holder, heldToken, heldRequest);
            stored.State.Lease = holder == Guid.Empty ? TimeSpan.Zero : _lease > previous.Lease ? _lease : previous.Lease;
            await stored.WriteStateAsync(cancellationToken);
        }
        catch (Exception)
        {
            // Not stored: the next activation counts the lock held for one lease by no hold it knows, as after a crash.
            (stored.State.Holder, stored.State.Lease, stored.State.HeldToken, stored.State.HeldRequest) = previous;
        }
        finally
        {
            _writes.Release();
        }
    }

    private bool Free => _holder == Guid.Empty || Environment.TickCount64 >= _leaseEnds;

    public async Task<LockGrant?> TryAcquire(Guid holder, Guid request, TimeSpan lease, TimeSpan wait)
    {
        if (holder == Guid.Empty) throw new ArgumentException("A holder is a non-empty session id.", nameof(holder));
        if (request == Guid.Empty) throw new ArgumentException("A request is a non-empty id.", nameof(request));
        if (lease < TimeSpan.FromMilliseconds(100) || lease > TimeSpan.FromMinutes(10))
            throw new ArgumentOutOfRangeException(nameof(lease), lease, "A lock lease lies between 100 ms and 10 minutes.");
        if (wait < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(wait), wait, "A wait is not negative.");
        var deadline = Environment.TickCount64 + (long)Math.Min(wait.TotalMilliseconds, LongestWait.TotalMilliseconds);
        while (!Free || _granting)
        {
            if (request == _grantedRequest && !_granting) return GrantedAgain(holder);
            var left = deadline - Environment.TickCount64;
            if (left <= 0) return null;
            var leaseLeft = Math.Max(1, _leaseEnds - Environment.TickCount64);
            await Task.WhenAny(_changed.Task, Task.Delay(TimeSpan.FromMilliseconds(Math.Min(left, leaseLeft))));
        }
        if (request == _grantedRequest) return GrantedAgain(holder);
        var token = _token + 1;
        // A stored hold must be cleared before another is granted: after a crash it would vouch for an ended hold.
        if (token > stored.State.Token || lease > stored.State.Lease || stored.State.Holder == Guid.Empty || stored.State.HeldToken != 0)
        {
            // Claimed in this turn; the storage write below may interleave with other callers, who wait for it.
            _granting = true;
            await _writes.WaitAsync();
            var previous = (stored.State.Token, stored.State.Holder, stored.State.Lease, stored.State.HeldToken, stored.State.HeldRequest);
            (stored.State.Token, stored.State.Holder, stored.State.Lease, stored.State.HeldToken, stored.State.HeldRequest) = (
                Math.Max(previous.Token, token + TokenBlock - 1), holder, lease > previous.Lease ? lease : previous.Lease, 0, Guid.Empty);
            try
            {
                await stored.WriteStateAsync();
            }
            catch
            {
                (stored.State.Token, stored.State.Holder, stored.State.Lease, stored.State.HeldToken, stored.State.HeldRequest) = previous;
                throw;
            }
            finally
            {
                _granting = false;
                _writes.Release();
            }
        }
        (_token, _holder, _lease, _leaseEnds, _grantedRequest) = (token, holder, lease, Environment.TickCount64 + (long)lease.TotalMilliseconds, request);
        Changed();
        return new LockGrant(token, lease);
    }

    /// <summary>What a request already granted gets when it comes again: its grant while it lasts, else nothing.</summary>
    private LockGrant? GrantedAgain(Guid holder) => Holds(holder, _token) ? new LockGrant(_token, _lease) : null;

    public Task<bool> Renew(Guid holder, long token)
    {
        if (!Holds(holder, token)) return Task.FromResult(false);
        _leaseEnds = Environment.TickCount64 + (long)_lease.TotalMilliseconds;
        return Task.FromResult(true);
    }

    public Task Release(Guid holder, long token)
    {
        if (!Holds(holder, token)) return Task.CompletedTask;
        (_holder, _leaseEnds) = (Guid.Empty, 0);
        Changed();
        return Task.CompletedTask;
    }

    private void Changed()
    {
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.SetResult();
    }

    public Task<TimeSpan> Validate(long token) => Task.FromResult(
        token == _token && _holder != Guid.Empty && !_granting
            ? TimeSpan.FromMilliseconds(Math.Max(0, _leaseEnds - Environment.TickCount64))
            : TimeSpan.Zero);

    private bool Holds(Guid holder, long token) =>
        token == _token && holder == _holder && Environment.TickCount64 < _leaseEnds;
}
