using OrleansDsm.Grains.Hosting;
using OrleansDsm.Locks;

namespace OrleansDsm.Grains.Locks;

/// <summary>
/// A named lock. The token and holder of each grant are stored before the grant is returned, so tokens only grow,
/// even across crashes. The lease runs on this silo's monotonic clock from when the grant or renewal was made. An
/// activation that finds a holder in storage does not know when that holder last renewed, so it counts the holder's
/// lease as running for one full lease from its own start. Waiters are not queued in order: whoever asks first once
/// the lock is free gets it.
/// </summary>
internal sealed class LockGrain([PersistentState("lock", StorageNames.Regions)] IPersistentState<LockState> stored) : Grain, ILockGrain
{
    private static readonly TimeSpan LongestWait = TimeSpan.FromSeconds(10);
    private long _leaseEnds;
    private TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _granting;
    // Storage writes one at a time, each changing the state only once it holds this.
    private readonly SemaphoreSlim _writes = new(1, 1);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (stored.State.Holder != Guid.Empty) _leaseEnds = Environment.TickCount64 + (long)stored.State.Lease.TotalMilliseconds;
        return Task.CompletedTask;
    }

    private bool Free => stored.State.Holder == Guid.Empty || Environment.TickCount64 >= _leaseEnds;

    public async Task<LockGrant?> TryAcquire(Guid holder, TimeSpan lease, TimeSpan wait)
    {
        if (holder == Guid.Empty) throw new ArgumentException("A holder is a non-empty session id.", nameof(holder));
        if (lease < TimeSpan.FromMilliseconds(100) || lease > TimeSpan.FromMinutes(10))
            throw new ArgumentOutOfRangeException(nameof(lease), lease, "A lock lease lies between 100 ms and 10 minutes.");
        if (wait < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(wait), wait, "A wait is not negative.");
        var deadline = Environment.TickCount64 + (long)Math.Min(wait.TotalMilliseconds, LongestWait.TotalMilliseconds);
        while (!Free || _granting)
        {
            var left = deadline - Environment.TickCount64;
            if (left <= 0) return null;
            var leaseLeft = Math.Max(1, _leaseEnds - Environment.TickCount64);
            await Task.WhenAny(_released.Task, Task.Delay(TimeSpan.FromMilliseconds(Math.Min(left, leaseLeft))));
        }
        // Claimed in this turn; the storage write below may interleave with other callers, who wait for it.
        _granting = true;
        await _writes.WaitAsync();
        var previous = (stored.State.Token, stored.State.Holder, stored.State.Lease);
        (stored.State.Token, stored.State.Holder, stored.State.Lease) = (previous.Token + 1, holder, lease);
        try
        {
            await stored.WriteStateAsync();
        }
        catch
        {
            (stored.State.Token, stored.State.Holder, stored.State.Lease) = previous;
            throw;
        }
        finally
        {
            _granting = false;
            _writes.Release();
        }
        _leaseEnds = Environment.TickCount64 + (long)lease.TotalMilliseconds;
        return new LockGrant(stored.State.Token, lease);
    }

    public Task<bool> Renew(Guid holder, long token)
    {
        if (!Holds(holder, token)) return Task.FromResult(false);
        _leaseEnds = Environment.TickCount64 + (long)stored.State.Lease.TotalMilliseconds;
        return Task.FromResult(true);
    }

    public async Task Release(Guid holder, long token)
    {
        if (!Holds(holder, token)) return;
        _leaseEnds = 0;
        var released = _released;
        _released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        released.SetResult();
        // Stored so that the next activation need not wait out a lease nobody holds; if it fails, it waits one.
        await _writes.WaitAsync();
        try
        {
            if (stored.State.Token == token)
            {
                stored.State.Holder = Guid.Empty;
                await stored.WriteStateAsync();
            }
        }
        catch (Exception)
        {
        }
        finally
        {
            _writes.Release();
        }
    }

    public Task<TimeSpan> Validate(long token) => Task.FromResult(
        token == stored.State.Token && stored.State.Holder != Guid.Empty && !_granting
            ? TimeSpan.FromMilliseconds(Math.Max(0, _leaseEnds - Environment.TickCount64))
            : TimeSpan.Zero);

    private bool Holds(Guid holder, long token) =>
        token == stored.State.Token && holder == stored.State.Holder && Environment.TickCount64 < _leaseEnds;
}
