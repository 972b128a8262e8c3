using OrleansDsm.Buffering;
using OrleansDsm.Connection;

namespace OrleansDsm.Locks;

/// <summary>
/// A named lock that processes anywhere in the cluster share: one holder at a time. A hold is leased and renewed in
/// the background, so a holder that dies frees the lock within one lease. Each hold carries a fencing token larger
/// than every earlier one; writes made through <see cref="Arrays.SharedArray{T}.Fenced"/> carry it, and once a
/// hold's lease has ended and another holder has acquired, no page applies a write carrying the old token.
/// Not fair: when the lock comes free, whichever waiter asks first gets it. Acquiring and releasing are the acquire and
/// release points of <see cref="Regions.Consistency.Release"/> regions.
/// </summary>
public sealed class SharedLock
{
    private static readonly TimeSpan AskFor = TimeSpan.FromSeconds(5);
    private readonly IGrainFactory _grains;
    private readonly ReleaseBuffer _buffer;
    private readonly Guid _holder;
    private readonly TransientRetry _retry;

    internal SharedLock(IGrainFactory grains, ReleaseBuffer buffer, Guid holder, TransientRetry retry, string name, TimeSpan lease)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("A lock's name is not empty.", nameof(name));
        if (lease < TimeSpan.FromMilliseconds(100) || lease > TimeSpan.FromMinutes(10))
            throw new ArgumentOutOfRangeException(nameof(lease), lease, "A lock lease lies between 100 ms and 10 minutes.");
        (_grains, _buffer, _holder, _retry, Name, Lease) = (grains, buffer, holder, retry, name, lease);
    }

    /// <summary>The lock's name.</summary>
    public string Name { get; }

    /// <summary>How long a hold lasts without renewal; the holder renews it every third of it.</summary>
    public TimeSpan Lease { get; }

    private ILockGrain Grain => _grains.GetGrain<ILockGrain>(Name);

    /// <summary>Waits until the lock is this caller's, and returns the hold; dispose it to release the lock.</summary>
    public async Task<LockHandle> AcquireAsync(CancellationToken cancellation = default)
    {
        while (true)
        {
            if (await TryOnceAsync(AskFor, cancellation) is { } hold) return hold;
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the lock; null if it did not come free in that time.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative.</exception>
    public async Task<LockHandle?> TryAcquireAsync(TimeSpan timeout, CancellationToken cancellation = default)
    {
        if (timeout < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "A timeout is not negative.");
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        do
        {
            var left = timeout - deadline.Elapsed;
            if (await TryOnceAsync(TimeSpan.FromTicks(Math.Clamp(left.Ticks, 0, AskFor.Ticks)), cancellation) is { } hold) return hold;
        }
        while (deadline.Elapsed < timeout);
        return null;
    }

    private async Task<LockHandle?> TryOnceAsync(TimeSpan wait, CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        // Every attempt carries one request id: the lock grants it once, and an attempt that comes after another was
        // granted gets that grant, so a grant whose answer was lost is not left holding the lock for a lease.
        var request = Guid.NewGuid();
        var grant = await _retry.RunAsync(() => Grain.TryAcquire(_holder, request, Lease, wait), cancellation);
        if (grant is null) return null;
        _buffer.Acquired();
        return new LockHandle(Grain, _buffer, _holder, Name, grant);
    }
}
