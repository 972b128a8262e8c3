using System.Buffers;
using System.IO.Hashing;
using Microsoft.Extensions.Options;
using OrleansDsm.Caching;
using OrleansDsm.Grains.Caching;
using OrleansDsm.Grains.Hosting;
using OrleansDsm.Grains.Regions;
using OrleansDsm.Pages;
using OrleansDsm.Regions;

namespace OrleansDsm.Grains.Pages;

/// <summary>
/// One page of the address space. Orleans runs one call at a time on it (reads and fills may interleave with each
/// other, never with a write), which is what makes each operation atomic. A page that was never written keeps no
/// bytes in memory and no record in storage: it reads as zeros until its first write. Before its first write, or
/// its first fill into a client cache, the page registers with its region, so that freeing the region finds it.
/// Before every write it revokes the copies other sessions cache (see <see cref="CacheHolders"/>).
/// </summary>
internal sealed class PageGrain : Grain, IPageGrain
{
    private readonly IPersistentState<PageState> _stored;
    private readonly RegionLivenessCache _regions;
    private readonly SessionLeaseTable _leases;
    private readonly CacheHolders _holders;
    private readonly int _pageSize;
    private readonly TimeSpan _cacheLease;
    private long _registeredEpoch;
    private Task? _markingLeasesOut;
    private bool _grantedLeases;
    private long _activatedAt;
    // Before this time (Environment.TickCount64) writes wait: a crashed predecessor may have granted leases until then.
    private long _writableAt;

    public PageGrain(
        [PersistentState("page", StorageNames.Pages)] IPersistentState<PageState> stored,
        RegionLivenessCache regions,
        SessionLeaseTable leases,
        IOptions<AddressSpaceOptions> options)
    {
        _stored = stored;
        _regions = regions;
        _leases = leases;
        _holders = new CacheHolders(leases, options.Value.SkipInvalidationForCheckerTests);
        _pageSize = options.Value.PageSize;
        _cacheLease = options.Value.CacheLease;
    }

    /// <summary>
    /// A page whose last activation crashed may have copies in client caches that no one revoked, valid until their
    /// leases end; this activation's writes wait that out. A page with bytes knows from its stored mark
    /// (<see cref="PageState.LeasesMayBeOut"/>); a page without learns it from its region when it registers.
    /// </summary>
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _activatedAt = Environment.TickCount64;
        if (_stored.RecordExists && _stored.State.LeasesMayBeOut) WaitOutPredecessorLeases();
        return Task.CompletedTask;
    }

    private long PageNumber => this.GetPrimaryKeyLong();

    public async Task<ulong> ReadElement(long epoch, int offset, int size, CancellationToken cancellation)
    {
        CheckElement(offset, size);
        await _regions.RequireLive(epoch, PageNumber, cancellation);
        return StoredBytes(epoch) is { } bytes ? PageAtomics.Load(bytes.AsSpan(offset, size)) : 0;
    }

    public async Task<byte[]> Read(long epoch, int offset, int length, CancellationToken cancellation)
    {
        CheckRange(offset, length);
        await _regions.RequireLive(epoch, PageNumber, cancellation);
        return StoredBytes(epoch) is { } bytes ? bytes.AsSpan(offset, length).ToArray() : new byte[length];
    }

    public async Task<PageCopy> Fill(long epoch, Guid session, ICacheHolder holder, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(holder);
        await _regions.RequireLive(epoch, PageNumber, cancellation);
        var bytes = StoredBytes(epoch);
        if (bytes is null) await RegisterWithRegionAsync(epoch);
        else if (!_stored.State.LeasesMayBeOut) await (_markingLeasesOut ??= MarkLeasesOutAsync());
        _grantedLeases = true;
        var lease = _leases.Renew(session);
        _holders.Add(session, holder);
        return new PageCopy(bytes is null ? 0 : _stored.State.Version, bytes?.ToArray(), lease);
    }

    public Task<LeaseGrant> Renew(Guid session) => Task.FromResult(_leases.Renew(session));

    public async Task<long> WriteElement(long epoch, RequestId request, int offset, int size, ulong value, CancellationToken cancellation)
    {
        CheckElement(offset, size);
        return (await MutateAsync(epoch, request, offset, size, value, static (element, value) =>
        {
            PageAtomics.Store(element, value);
            return 0UL;
        }, cancellation)).Version;
    }

    public async Task<long> Write(long epoch, RequestId request, int offset, byte[] bytes, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        CheckRange(offset, bytes.Length);
        if (bytes.Length == _pageSize) return await ReplaceAsync(epoch, request, bytes, cancellation);
        return (await MutateAsync(epoch, request, offset, bytes.Length, bytes, static (range, bytes) =>
        {
            bytes.CopyTo(range);
            return 0UL;
        }, cancellation)).Version;
    }

    public Task<ElementUpdate> Add(long epoch, RequestId request, int offset, NumericKind kind, ulong delta, CancellationToken cancellation)
    {
        var size = PageAtomics.SizeOf(kind);
        CheckElement(offset, size);
        return MutateAsync(epoch, request, offset, size, (kind, delta),
            static (element, operands) => PageAtomics.Add(element, operands.kind, operands.delta), cancellation);
    }

    public Task<ElementUpdate> Exchange(long epoch, RequestId request, int offset, int size, ulong value, CancellationToken cancellation)
    {
        CheckElement(offset, size);
        return MutateAsync(epoch, request, offset, size, value, static (element, value) =>
        {
            var original = PageAtomics.Load(element);
            PageAtomics.Store(element, value);
            return original;
        }, cancellation);
    }

    public Task<ElementUpdate> CompareExchange(long epoch, RequestId request, int offset, int size, ulong value, ulong comparand, CancellationToken cancellation)
    {
        CheckElement(offset, size);
        return MutateAsync(epoch, request, offset, size, (value, comparand), static (element, operands) =>
        {
            var original = PageAtomics.Load(element);
            if (original == operands.comparand) PageAtomics.Store(element, operands.value);
            return original;
        }, cancellation);
    }

    public async Task Release(long epoch)
    {
        await WaitOutPredecessorLeasesAsync();
        await _holders.RevokeAsync(PageNumber, long.MaxValue, writer: Guid.Empty);
        if (_stored.RecordExists && _stored.State.Epoch == epoch)
            await _stored.ClearStateAsync();
        _stored.State = new PageState { LeasesMayBeOut = _stored.State.LeasesMayBeOut };
        DeactivateOnIdle();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Holders learn the page is going, and storage that no lease is out, so the next activation owes them nothing.
        await _holders.RevokeAsync(PageNumber, long.MaxValue, writer: Guid.Empty);
        if (!_stored.State.LeasesMayBeOut) return;
        _stored.State.LeasesMayBeOut = false;
        try
        {
            await _stored.WriteStateAsync(cancellationToken);
        }
        catch (Exception)
        {
            // Left set, the mark costs the next activation one lease of waiting before its first write; nothing worse.
        }
    }

    public Task<PageSummary> GetState()
    {
        var state = _stored.State;
        var bytes = _stored.RecordExists ? state.Bytes : new byte[_pageSize];
        return Task.FromResult(new PageSummary(
            PageNumber,
            _stored.RecordExists ? state.Epoch : 0,
            _stored.RecordExists ? state.Version : 0,
            _stored.RecordExists,
            Crc32.HashToUInt32(bytes),
            Convert.ToHexString(bytes.AsSpan(0, Math.Min(16, bytes.Length)))));
    }

    /// <summary>The page's bytes for <paramref name="epoch"/>, or null when it reads as zeros.</summary>
    private byte[]? StoredBytes(long epoch)
    {
        if (!_stored.RecordExists) return null;
        var state = _stored.State;
        if (state.Epoch == epoch) return state.Bytes;
        // Bytes of a newer allocation mean the caller's region was freed and the range reused; bytes of an older
        // one are left over from a free that did not finish, and belong to no live region.
        if (state.Epoch > epoch) throw new RegionFreedException($"The region of allocation epoch {epoch} has been freed.");
        return null;
    }

    /// <summary>Stores that this activation may grant leases, before it grants the first: a crash after it is then seen.</summary>
    private async Task MarkLeasesOutAsync()
    {
        _stored.State.LeasesMayBeOut = true;
        try
        {
            await _stored.WriteStateAsync();
        }
        catch
        {
            _stored.State.LeasesMayBeOut = false;
            _markingLeasesOut = null;
            throw;
        }
    }

    private void WaitOutPredecessorLeases() =>
        _writableAt = Math.Max(_writableAt, _activatedAt + (long)_cacheLease.TotalMilliseconds);

    /// <summary>Waits until leases a crashed predecessor may have granted have run out; at once otherwise.</summary>
    private Task WaitOutPredecessorLeasesAsync()
    {
        var left = _writableAt - Environment.TickCount64;
        return left > 0 ? Task.Delay(TimeSpan.FromMilliseconds(left)) : Task.CompletedTask;
    }

    /// <summary>
    /// Durably registers this page with allocation <paramref name="epoch"/>, once per activation. A page without bytes
    /// that its region already knows was cached by an earlier activation, which may have crashed with leases out.
    /// </summary>
    private async Task RegisterWithRegionAsync(long epoch)
    {
        if (_registeredEpoch == epoch) return;
        if (await GrainFactory.GetGrain<IRegionGrain>(epoch).RecordTouched(PageNumber) && StoredBytes(epoch) is null)
            WaitOutPredecessorLeases();
        _registeredEpoch = epoch;
    }

    /// <summary>The version the next write in <paramref name="epoch"/> will give the page.</summary>
    private long NextVersion(long epoch) => StoredBytes(epoch) is null ? 1 : _stored.State.Version + 1;

    /// <summary>
    /// Applies <paramref name="mutate"/> to bytes [offset, offset + length) and stores the page before returning. If
    /// storing fails, the bytes are put back, so no caller ever observes a change that storage does not hold.
    /// </summary>
    private async Task<ElementUpdate> MutateAsync<TOperand>(
        long epoch, RequestId request, int offset, int length, TOperand operand,
        Func<Span<byte>, TOperand, ulong> mutate, CancellationToken cancellation)
    {
        await _regions.RequireLive(epoch, PageNumber, cancellation);
        if (StoredBytes(epoch) is null) await RegisterWithRegionAsync(epoch);
        await WaitOutPredecessorLeasesAsync();
        if (_stored.State.Applied(request) is { } done) return new ElementUpdate(done.Value, done.Version);
        await _holders.RevokeAsync(PageNumber, NextVersion(epoch), request.Session);
        var previous = _stored.State;
        var bytes = StoredBytes(epoch);
        var firstWrite = bytes is null;
        if (bytes is null)
        {
            bytes = new byte[_pageSize];
            _stored.State = new PageState
            {
                Epoch = epoch, Bytes = bytes, LeasesMayBeOut = previous.LeasesMayBeOut || _grantedLeases, Recent = previous.Recent,
            };
        }

        var undo = firstWrite ? null : ArrayPool<byte>.Shared.Rent(length);
        var range = bytes.AsSpan(offset, length);
        if (undo is not null) range.CopyTo(undo);
        AppliedRequest? applied = null;
        try
        {
            var result = mutate(range, operand);
            var version = ++_stored.State.Version;
            _stored.State.Remember(applied = new AppliedRequest(request, result, version));
            await _stored.WriteStateAsync(cancellation);
            return new ElementUpdate(result, version);
        }
        catch
        {
            if (applied is not null) _stored.State.Recent.Remove(applied);
            if (undo is null)
            {
                _stored.State = previous;
            }
            else
            {
                undo.AsSpan(0, length).CopyTo(bytes.AsSpan(offset, length));
                _stored.State.Version--;
            }
            DeactivateOnIdle();
            throw;
        }
        finally
        {
            if (undo is not null) ArrayPool<byte>.Shared.Return(undo);
        }
    }

    /// <summary>
    /// Makes <paramref name="bytes"/> the page's contents. The array arrived with the call, so the grain owns it and
    /// can keep it without a copy; if storing fails, the previous state is put back.
    /// </summary>
    private async Task<long> ReplaceAsync(long epoch, RequestId request, byte[] bytes, CancellationToken cancellation)
    {
        await _regions.RequireLive(epoch, PageNumber, cancellation);
        var version = NextVersion(epoch);
        if (version == 1) await RegisterWithRegionAsync(epoch);
        await WaitOutPredecessorLeasesAsync();
        if (_stored.State.Applied(request) is { } done) return done.Version;
        await _holders.RevokeAsync(PageNumber, version, request.Session);
        var previous = _stored.State;
        _stored.State = new PageState
        {
            Epoch = epoch, Version = version, Bytes = bytes, LeasesMayBeOut = previous.LeasesMayBeOut || _grantedLeases, Recent = previous.Recent,
        };
        var applied = new AppliedRequest(request, 0, version);
        _stored.State.Remember(applied);
        try
        {
            await _stored.WriteStateAsync(cancellation);
            return version;
        }
        catch
        {
            previous.Recent.Remove(applied);
            _stored.State = previous;
            DeactivateOnIdle();
            throw;
        }
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
        if (offset < 0 || offset >= _pageSize)
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"An offset lies within the {_pageSize}-byte page.");
        if (length <= 0 || length > _pageSize - offset)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"The range at offset {offset} must fit in the {_pageSize}-byte page.");
    }
}
