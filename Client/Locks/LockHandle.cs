using OrleansDsm.Buffering;

namespace OrleansDsm.Locks;

/// <summary>
/// A hold on a <see cref="SharedLock"/>, renewed in the background until disposed; disposing releases the lock. Wait
/// for the writes made under it before disposing: the lock may be granted again as soon as it is released. Disposing is a
/// release point: this client's unreleased writes to <see cref="Regions.Consistency.Release"/> regions are sent first.
/// </summary>
public sealed class LockHandle : IAsyncDisposable
{
    private readonly ILockGrain _grain;
    private readonly ReleaseBuffer _buffer;
    private readonly Guid _holder;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _renewals;
    private int _disposed;

    internal LockHandle(ILockGrain grain, ReleaseBuffer buffer, Guid holder, string name, LockGrant grant)
    {
        (_grain, _buffer, _holder, Fence) = (grain, buffer, holder, new LockFence(name, grant.Token));
        Lease = grant.Lease;
        _renewals = RenewAsync(_stopping.Token);
    }

    /// <summary>The fencing token of this hold: larger than that of every earlier hold of the lock.</summary>
    public long Token => Fence.Token;

    /// <summary>The lock's name.</summary>
    public string Lock => Fence.Lock;

    /// <summary>How long the hold lasts without renewal.</summary>
    public TimeSpan Lease { get; }

    /// <summary>False once a renewal found the hold ended (the lease ran out first): writes under it are refused.</summary>
    public bool Held { get; private set; } = true;

    internal LockFence Fence { get; }

    /// <summary>For tests: stops renewing, as a holder that is paused or cut off would.</summary>
    internal async Task StopRenewingAsync()
    {
        await _stopping.CancelAsync();
        await _renewals;
    }

    private async Task RenewAsync(CancellationToken stopping)
    {
        while (Held && !stopping.IsCancellationRequested)
        {
            await Task.Delay(Lease / 3, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (stopping.IsCancellationRequested) return;
            try
            {
                Held = await _grain.Renew(_holder, Token);
            }
            catch (Exception)
            {
                // Try again at the next third; if the lease runs out meanwhile, pages refuse this hold's writes.
            }
        }
    }

    /// <summary>
    /// Sends this client's unreleased writes, then stops renewing and releases the lock, if this hold still has it. If
    /// the writes cannot be sent, their error is thrown and the lock is not released: the writes stay buffered and the
    /// lease frees the lock, so no other holder acquires believing it sees them.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _disposed) == 1) return;
        try
        {
            await _buffer.ReleaseAsync(CancellationToken.None);
        }
        catch (Exception)
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) await StopRenewingAsync();
            throw;
        }
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await StopRenewingAsync();
        _stopping.Dispose();
        try
        {
            await _grain.Release(_holder, Token);
        }
        catch (Exception)
        {
            // Not released: the lease frees the lock.
        }
    }
}
