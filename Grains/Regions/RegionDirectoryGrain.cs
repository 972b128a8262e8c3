using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using OrleansDsm.Addressing;
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
internal sealed class RegionDirectoryGrain : Grain, IRegionDirectoryGrain
{
    private readonly IPersistentState<RegionDirectoryState> _stored;
    private readonly AddressSpaceOptions _options;
    private readonly CoalescingWriter _writer;
    // The releases going on, by allocation epoch; one that failed stays, and its waiters get its error, until the next
    // activation tries it again.
    private readonly Dictionary<long, Task> _releases = [];

    public RegionDirectoryGrain(
        [PersistentState("directory", StorageNames.Regions)] IPersistentState<RegionDirectoryState> stored,
        IOptions<AddressSpaceOptions> options)
    {
        _stored = stored;
        _options = options.Value;
        _writer = new CoalescingWriter(() => _stored.WriteStateAsync());
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

    public async Task<FreeProgress> Free(string name, string? token, TimeSpan wait)
    {
        RegionNames.Validate(name);
        RequireReleaseWait(wait);
        if (!State.Regions.TryGetValue(name, out var region))
            throw new RegionNotFoundException($"There is no region named '{name}'.");
        RequireOwner(name, token);
        State.Regions.Remove(name);
        State.OwnerTokenHashes.Remove(name);
        State.Releasing.Add(region);
        await _writer.WriteAsync();
        return new FreeProgress(region.Epoch, await WaitAsync(StartRelease(region), wait));
    }

    public Task<bool> WaitReleased(long epoch, TimeSpan wait)
    {
        RequireReleaseWait(wait);
        return _releases.TryGetValue(epoch, out var release) ? WaitAsync(release, wait) : Task.FromResult(true);
    }

    private static void RequireReleaseWait(TimeSpan wait)
    {
        if (wait < TimeSpan.Zero || wait > TimeSpan.FromMinutes(1))
            throw new ArgumentOutOfRangeException(nameof(wait), wait, "A free waits for its release from 0 to 1 minute a call.");
    }

    /// <summary>Whether <paramref name="release"/> ends within <paramref name="wait"/>; its failure, if it failed.</summary>
    private static async Task<bool> WaitAsync(Task release, TimeSpan wait)
    {
        if (await Task.WhenAny(release, Task.Delay(wait)) != release) return false;
        await release;
        return true;
    }

    /// <summary>Starts releasing <paramref name="region"/>, and remembers it until it is done, so that callers can wait for it.</summary>
    private Task StartRelease(RegionDescriptor region)
    {
        var release = FinishFreeAsync(region);
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

    private async Task FinishFreeAsync(RegionDescriptor region)
    {
        await GrainFactory.GetGrain<IRegionGrain>(region.Epoch).Free(region.Epoch);
        State.Releasing.Remove(region);
        State.Space?.Give(region.FirstPage, region.PageCount);
        await _writer.WriteAsync();
        _releases.Remove(region.Epoch);
    }

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
