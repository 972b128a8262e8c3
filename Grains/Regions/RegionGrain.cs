using Microsoft.Extensions.Options;
using Orleans.Placement;
using OrleansDsm.Grains.Hosting;
using OrleansDsm.Grains.Persistence;
using OrleansDsm.Pages;
using OrleansDsm.Regions;

namespace OrleansDsm.Grains.Regions;

/// <summary>
/// One allocation, keyed by its epoch. Reentrant so that many pages can register their first write at once; their
/// registrations share one storage write.
/// </summary>
// Stays where it started when pages are rebalanced: one per region, so moving it balances nothing.
[Immovable]
[Reentrant]
internal sealed class RegionGrain : Grain, IRegionGrain
{
    /// <summary>How many pages are released at once while freeing.</summary>
    private const int ReleaseBatch = 256;

    private readonly IPersistentState<RegionState> _stored;
    private readonly AddressSpaceOptions _options;
    private readonly CoalescingWriter _writer;
    private Task? _freeing;

    public RegionGrain(
        [PersistentState("region", StorageNames.Regions)] IPersistentState<RegionState> stored,
        IOptions<AddressSpaceOptions> options)
    {
        _stored = stored;
        _options = options.Value;
        _writer = new CoalescingWriter(() => _stored.WriteStateAsync());
    }

    private long Epoch => this.GetPrimaryKeyLong();

    public async Task Initialize(RegionExtent extent)
    {
        if (_stored.RecordExists) throw new InvalidOperationException($"Allocation epoch {Epoch} is already initialized.");
        _stored.State = new RegionState { Extent = extent };
        await _writer.WriteAsync();
    }

    public Task<RegionExtent> GetExtent(long epoch)
    {
        RequireOwn(epoch);
        return Task.FromResult(RequireLive());
    }

    public async Task<bool> RecordTouched(long page)
    {
        var extent = RequireLive();
        if (!extent.Contains(page))
            throw new ArgumentOutOfRangeException(nameof(page), page, $"Page {page} is not part of allocation epoch {Epoch}.");
        if (!_stored.State.Touched.Add(page)) return true;
        await _writer.WriteAsync();
        return false;
    }

    public Task<TouchedPages> GetTouchedPages(long after, int max)
    {
        RequireLive();
        if (max is < 1 or > TouchedPages.MaxPerCall)
            throw new ArgumentOutOfRangeException(nameof(max), max, $"Between 1 and {TouchedPages.MaxPerCall} pages are listed per call.");
        var touched = _stored.State.Touched;
        return Task.FromResult(new TouchedPages(touched.Count, touched.PagesFrom(after == long.MaxValue ? long.MaxValue : after + 1).Take(max).ToArray()));
    }

    public Task<RegionSummary> GetState()
    {
        var state = _stored.State;
        return Task.FromResult(new RegionSummary(Epoch, state.Extent.FirstPage, state.Extent.PageCount, state.Touched.Count, state.Freed || !_stored.RecordExists));
    }

    public Task Free(long epoch)
    {
        RequireOwn(epoch);
        // A free that failed (the database away) is tried again by the next call: the directory keeps calling until one ends.
        if (_freeing is { IsFaulted: true } or { IsCanceled: true }) _freeing = null;
        return _freeing ??= FreeOnceAsync();
    }

    private void RequireOwn(long epoch)
    {
        if (epoch != Epoch) throw new ArgumentException($"Allocation epoch {epoch} was asked of the grain of epoch {Epoch}.", nameof(epoch));
    }

    private async Task FreeOnceAsync()
    {
        if (!_stored.RecordExists) return;
        var freedAt = Environment.TickCount64;
        // Refused from here on; stored on every attempt, since one that failed may have failed to store it.
        _stored.State.Freed = true;
        await _writer.WriteAsync();

        var pages = new GrainReferences<IPageGrain>(GrainFactory);
        foreach (var batch in _stored.State.Touched.Pages().Chunk(ReleaseBatch))
            await Task.WhenAll(batch.Select(page => pages[page].Release(Epoch)));

        // A silo that asked whether this allocation is live just before it was marked freed may trust the answer
        // for one lease from when it asked; once that has passed, no silo serves the allocation.
        var waitUntil = freedAt + (long)RegionLivenessCache.FreeWait(_options.RegionLease).TotalMilliseconds;
        var remaining = waitUntil - Environment.TickCount64;
        if (remaining > 0) await Task.Delay(TimeSpan.FromMilliseconds(remaining));

        await _stored.ClearStateAsync();
        _stored.State = new RegionState { Freed = true };
        DeactivateOnIdle();
    }

    private RegionExtent RequireLive()
    {
        if (!_stored.RecordExists || _stored.State.Freed)
            throw new RegionFreedException($"The region of allocation epoch {Epoch} has been freed; open it again by name.");
        return _stored.State.Extent;
    }
}
