using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using OrleansDsm.Addressing;
using OrleansDsm.Errors;
using OrleansDsm.Grains.Hosting;
using OrleansDsm.Grains.Persistence;
using OrleansDsm.Regions;

namespace OrleansDsm.Grains.Regions;

/// <summary>
/// The region directory. Reentrant so that a slow free (which waits out the region lease) does not hold up opens
/// and allocations; every state change is made before the first await of the call that makes it, and stored through
/// one <see cref="CoalescingWriter"/>.
/// </summary>
// Stays where it started when pages are rebalanced: one per cluster, so moving it balances nothing.
[Immovable]
[Reentrant]
internal sealed partial class RegionDirectoryGrain : Grain, IRegionDirectoryGrain
{
    /// <summary>How long after a failed release (the database away) it is tried again, unless a waiter asks first.</summary>
    private static readonly TimeSpan ReleaseRetry = TimeSpan.FromSeconds(2);

    private readonly IPersistentState<RegionDirectoryState> _stored;
    private readonly AddressSpaceOptions _options;
    private readonly CoalescingWriter _writer;
    private readonly ILogger<RegionDirectoryGrain> _log;
    // The releases going on, by allocation epoch. One that failed stays, its waiters get its error, and it is tried
    // again after ReleaseRetry or when someone waits for it, until one attempt ends.
    private readonly Dictionary<long, Release> _releases = [];
    private IGrainTimer? _retryTimer;

    public RegionDirectoryGrain(
        [PersistentState("directory", StorageNames.Regions)] IPersistentState<RegionDirectoryState> stored,
        IOptions<AddressSpaceOptions> options,
        ILogger<RegionDirectoryGrain> log)
    {
        _stored = stored;
        _options = options.Value;
        _writer = new CoalescingWriter(() => _stored.WriteStateAsync());
        _log = log;
    }

    private RegionDirectoryState State => _stored.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Frees interrupted by a crash are finished now; their ranges stay reserved until then.
        foreach (var region in State.Releasing.ToList()) _ = StartRelease(region);
        return Task.CompletedTask;
    }

    public async Task EnsurePageSize(int pageSize)
    {
        if (State.PageSize == pageSize) return;
        if (State.PageSize != 0)
            throw new PageSizeMismatchException(
                $"This silo is configured with a page size of {pageSize} bytes, but the cluster was created with {State.PageSize} bytes. " +
                $"Set Dsm:PageSize to {State.PageSize}, or use a new cluster for another page size.");
        _ = new PageGeometry(pageSize);
        State.PageSize = pageSize;
        State.Space = AddressRangeAllocator.ForPageSize(pageSize);
        await _writer.WriteAsync();
    }

    public Task<RegionAllocation> Allocate(AllocationRequest request)
    {
        Validate(request);
        if (State.Regions.ContainsKey(request.Name))
            throw new RegionExistsException($"A region named '{request.Name}' already exists.");
        return AllocateAsync(request);
    }

    public async Task<RegionAllocation> OpenOrCreate(AllocationRequest request)
    {
        Validate(request);
        if (!State.Regions.TryGetValue(request.Name, out var existing)) return await AllocateAsync(request);
        if (existing.ElementType != request.ElementType || existing.ElementSize != request.ElementSize)
            throw new RegionMismatchException(
                $"Region '{request.Name}' holds {existing.ElementType} ({existing.ElementSize} bytes), not {request.ElementType} ({request.ElementSize} bytes).");
        if (existing.ElementCount != request.ElementCount)
            throw new RegionMismatchException(
                $"Region '{request.Name}' has {existing.ElementCount} elements, not the {request.ElementCount} asked for.");
        return new RegionAllocation(existing, null);
    }

    public Task<RegionDescriptor> Open(string name)
    {
        RegionNames.Validate(name);
        return State.Regions.TryGetValue(name, out var region)
            ? Task.FromResult(region)
            : throw new RegionNotFoundException($"There is no region named '{name}'.");
    }

    public Task<RegionDescriptor> Find(GlobalAddress address) =>
        State.Regions.Values.FirstOrDefault(region => region.Contains(address)) is { } found
            ? Task.FromResult(found)
            : throw new RegionNotFoundException($"No region contains address {address}.");

    public Task<FreeProgress> Free(string name, string? token, TimeSpan wait, long epoch)
    {
        RegionNames.Validate(name);
        RequireReleaseWait(wait);
        if (!State.Regions.TryGetValue(name, out var region) || epoch != 0 && region.Epoch != epoch)
        {
            // A free sent again after one that freed this allocation went unanswered (its silo or gateway died): the
            // region it meant is freed, whoever freed it, and a region given the name since is not the one it meant.
            if (epoch != 0 && WasFreed(epoch)) return ProgressAsync(epoch, wait);
            throw new RegionNotFoundException(epoch == 0 ? $"There is no region named '{name}'." : $"There is no region named '{name}' of allocation epoch {epoch}.");
        }
        RequireOwner(name, token);
        State.Regions.Remove(name);
        State.OwnerTokenHashes.Remove(name);
        State.Releasing.Add(region);
        return ProgressAsync(StartRelease(region), wait);
    }

    /// <summary>Whether allocation <paramref name="epoch"/> was made and is no longer live.</summary>
    private bool WasFreed(long epoch) => epoch > 0 && epoch < State.NextEpoch && State.Regions.Values.All(region => region.Epoch != epoch);

    /// <summary>A free's answer for an allocation already freed: its release's, if one goes on (tried again if it failed).</summary>
    private Task<FreeProgress> ProgressAsync(long epoch, TimeSpan wait)
    {
        if (!_releases.TryGetValue(epoch, out var release)) return Task.FromResult(new FreeProgress(epoch, true));
        return ProgressAsync(release.Done.IsFaulted ? StartRelease(release.Region) : release, wait);
    }

    private async Task<FreeProgress> ProgressAsync(Release release, TimeSpan wait)
    {
        try
        {
            await release.Stored;
        }
        catch (Exception error)
        {
            // The name is gone here already, and other calls may have acted on that: the free stands, and its release
            // (which stores it first) is tried again until the database answers.
            throw new StorageUnavailableException(
                $"Region '{release.Region.Name}' is freed, but the directory could not store that yet ({error.Message}). It tries again every " +
                $"{ReleaseRetry.TotalSeconds:0} s and then releases the region; should its silo stop before, the region stays allocated.");
        }
        return new FreeProgress(release.Region.Epoch, await EndsWithinAsync(release.Done, wait));
    }

    public async Task<bool> WaitReleased(long epoch, TimeSpan wait)
    {
        RequireReleaseWait(wait);
        if (!_releases.TryGetValue(epoch, out var release)) return true;
        // A waiter does not wait for the retry timer: a failed release is tried again at once.
        if (release.Done.IsFaulted) release = StartRelease(release.Region);
        if (await EndsWithinAsync(release.Done, wait)) return true;
        if (release.Done.IsFaulted) await release.Done; // its error, which says that the release goes on
        return false;
    }

    private static void RequireReleaseWait(TimeSpan wait)
    {
        if (wait < TimeSpan.Zero || wait > TimeSpan.FromMinutes(1))
            throw new ArgumentOutOfRangeException(nameof(wait), wait, "A free waits for its release from 0 to 1 minute a call.");
    }

    /// <summary>Whether <paramref name="release"/> ends well within <paramref name="wait"/>.</summary>
    private static async Task<bool> EndsWithinAsync(Task release, TimeSpan wait)
    {
        try
        {
            await release.WaitAsync(wait);
            return true;
        }
        catch (Exception)
        {
            // Timed out, or failed: the caller looks at the task for which.
            return release.IsCompletedSuccessfully;
        }
    }

    /// <summary>
    /// Starts releasing <paramref name="region"/>, already marked freed in memory: stores that, then releases it, and
    /// remembers it until it is done, so that callers can wait for it.
    /// </summary>
    private Release StartRelease(RegionDescriptor region)
    {
        var stored = _writer.WriteAsync();
        var release = new Release(region, stored, ReleaseAsync(region, stored));
        _releases[region.Epoch] = release;
        return release;
    }

    public Task<RegionDirectorySummary> GetState() => Task.FromResult(new RegionDirectorySummary(
        PageSize,
        _options.QuotaBytes,
        ReservedBytes(),
        State.Regions.Values.OrderBy(region => region.Name, StringComparer.Ordinal).ToList()));

    private int PageSize => State.PageSize != 0 ? State.PageSize : _options.PageSize;

    /// <summary>Refuses a free unless <paramref name="token"/> is the region's owner token or the admin token.</summary>
    private void RequireOwner(string name, string? token)
    {
        if (!State.OwnerTokenHashes.TryGetValue(name, out var ownerHash)) return;
        var given = OwnerTokens.Hash(token);
        if (CryptographicOperations.FixedTimeEquals(given, ownerHash)) return;
        if (_options.AdminToken is { } admin && CryptographicOperations.FixedTimeEquals(given, OwnerTokens.Hash(admin))) return;
        throw new AccessDeniedException(
            $"Region '{name}' is freed only with the owner token its allocation returned, or with the cluster's admin token (Dsm:AdminToken); " +
            (token is null ? "no token was given." : "the token given is neither."));
    }

    private async Task<RegionAllocation> AllocateAsync(AllocationRequest request)
    {
        var geometry = new PageGeometry(PageSize);
        var pages = geometry.PagesFor(request.ElementCount * request.ElementSize);
        var bytes = pages * geometry.PageSize;
        var reserved = ReservedBytes();
        if (bytes > _options.QuotaBytes - reserved)
            throw new QuotaExceededException(
                $"Region '{request.Name}' needs {bytes} bytes of address space, but only {_options.QuotaBytes - reserved} of the " +
                $"{_options.QuotaBytes}-byte quota are free.");

        State.Space ??= AddressRangeAllocator.ForPageSize(geometry.PageSize);
        var firstPage = State.Space.Take(pages)
            ?? throw new QuotaExceededException($"The address space has no free range of {bytes} bytes for region '{request.Name}'.");
        var region = new RegionDescriptor(
            request.Name,
            new GlobalAddress((ulong)firstPage << geometry.Shift),
            request.ElementCount,
            request.ElementType,
            request.ElementSize,
            State.NextEpoch++,
            request.Consistency,
            geometry.PageSize);
        State.Regions.Add(region.Name, region);
        var token = OwnerTokens.Create();
        State.OwnerTokenHashes[region.Name] = OwnerTokens.Hash(token);
        try
        {
            await GrainFactory.GetGrain<IRegionGrain>(region.Epoch).Initialize(new RegionExtent(region.Epoch, firstPage, pages));
            await _writer.WriteAsync();
        }
        catch
        {
            State.Regions.Remove(region.Name);
            State.OwnerTokenHashes.Remove(region.Name);
            State.Space.Give(firstPage, pages);
            throw;
        }
        return new RegionAllocation(region, token);
    }

    private async Task ReleaseAsync(RegionDescriptor region, Task stored)
    {
        try
        {
            await stored;
            await GrainFactory.GetGrain<IRegionGrain>(region.Epoch).Free(region.Epoch);
            // An attempt that failed after this (storing it) must not give the range back twice when tried again.
            if (State.Releasing.Remove(region)) State.Space?.Give(region.FirstPage, region.PageCount);
            await _writer.WriteAsync();
            _releases.Remove(region.Epoch);
        }
        catch (Exception error)
        {
            LogReleaseFailed(region.Name, region.Epoch, ReleaseRetry, error);
            _retryTimer ??= this.RegisterGrainTimer(RetryFailedReleasesAsync, new GrainTimerCreationOptions(ReleaseRetry, ReleaseRetry));
            throw new StorageUnavailableException(
                $"Region '{region.Name}' is freed, but releasing it has not finished ({error.Message}). The directory tries again every " +
                $"{ReleaseRetry.TotalSeconds:0} s; until it is done, its address range stays reserved.");
        }
    }

    private Task RetryFailedReleasesAsync(CancellationToken cancellation)
    {
        // Only the releases still failed: a waiter may have tried one again already, and that attempt may be under way.
        var failed = _releases.Values.Where(release => release.Done.IsFaulted).ToList();
        foreach (var release in failed) _ = StartRelease(release.Region);
        if (failed.Count == 0)
        {
            _retryTimer?.Dispose();
            _retryTimer = null;
        }
        return Task.CompletedTask;
    }

    [LoggerMessage(LogLevel.Warning, "The release of region {Region} (allocation epoch {Epoch}) failed; it is tried again in {Retry}")]
    private partial void LogReleaseFailed(string region, long epoch, TimeSpan retry, Exception error);

    /// <summary>A release under way: the write that stores the free, and the whole release, which ends after it.</summary>
    private sealed record Release(RegionDescriptor Region, Task Stored, Task Done);

    private long ReservedBytes() =>
        State.Regions.Values.Sum(region => region.ReservedBytes) + State.Releasing.Sum(region => region.ReservedBytes);

    private void Validate(AllocationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        RegionNames.Validate(request.Name, nameof(request.Name));
        if (string.IsNullOrWhiteSpace(request.ElementType))
            throw new ArgumentException("The element type must be named.", nameof(request.ElementType));
        ArgumentNullException.ThrowIfNull(request.Consistency);
        if (!Enum.IsDefined(request.Consistency.Kind)
            || request.Consistency.Kind == ConsistencyKind.Bounded
               && (request.Consistency.MaxStaleness <= TimeSpan.Zero || request.Consistency.MaxStaleness > TimeSpan.FromDays(1)))
            throw new ArgumentException($"Consistency {request.Consistency} is not valid.", nameof(request.Consistency));
        if (request.ElementSize <= 0 || PageSize % request.ElementSize != 0)
            throw new ArgumentException(
                $"Elements of {request.ElementSize} bytes ({request.ElementType}) do not divide the {PageSize}-byte page; " +
                "an element size must divide the page size so that no element straddles two pages.", nameof(request.ElementSize));
        if (request.ElementCount <= 0)
            throw new ArgumentOutOfRangeException(nameof(request.ElementCount), request.ElementCount, "A region holds at least one element.");
        if (request.ElementCount > (1L << 62) / request.ElementSize)
            throw new ArgumentOutOfRangeException(nameof(request.ElementCount), request.ElementCount, "A region holds at most 2^62 bytes.");
    }
}
