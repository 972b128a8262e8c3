using System.Buffers;
using System.IO.Hashing;
using Microsoft.Extensions.Options;
using OrleansDsm.Grains.Hosting;
using OrleansDsm.Grains.Regions;
using OrleansDsm.Pages;
using OrleansDsm.Regions;

namespace OrleansDsm.Grains.Pages;

/// <summary>
/// One page of the address space. Orleans runs one call at a time on it (reads may interleave with reads), which
/// is what makes each operation atomic. A page that was never written keeps no bytes in memory and no record in
/// storage: it reads as zeros until its first write, which first registers the page with its region so that
/// freeing the region can find and delete the record.
/// </summary>
internal sealed class PageGrain(
    [PersistentState("page", StorageNames.Pages)] IPersistentState<PageState> stored,
    RegionLivenessCache regions,
    IOptions<AddressSpaceOptions> options) : Grain, IPageGrain
{
    private readonly int _pageSize = options.Value.PageSize;

    private long PageNumber => this.GetPrimaryKeyLong();

    public async Task<ulong> ReadElement(long epoch, int offset, int size, CancellationToken cancellation)
    {
        CheckElement(offset, size);
        await regions.RequireLive(epoch, PageNumber, cancellation);
        return StoredBytes(epoch) is { } bytes ? PageAtomics.Load(bytes.AsSpan(offset, size)) : 0;
    }

    public async Task<byte[]> Read(long epoch, int offset, int length, CancellationToken cancellation)
    {
        CheckRange(offset, length);
        await regions.RequireLive(epoch, PageNumber, cancellation);
        return StoredBytes(epoch) is { } bytes ? bytes.AsSpan(offset, length).ToArray() : new byte[length];
    }

    public Task WriteElement(long epoch, int offset, int size, ulong value, CancellationToken cancellation)
    {
        CheckElement(offset, size);
        return MutateAsync(epoch, offset, size, value, static (element, value) =>
        {
            PageAtomics.Store(element, value);
            return 0UL;
        }, cancellation);
    }

    public Task Write(long epoch, int offset, byte[] bytes, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        CheckRange(offset, bytes.Length);
        if (bytes.Length == _pageSize) return ReplaceAsync(epoch, bytes, cancellation);
        return MutateAsync(epoch, offset, bytes.Length, bytes, static (range, bytes) =>
        {
            bytes.CopyTo(range);
            return 0UL;
        }, cancellation);
    }

    public Task<ulong> Add(long epoch, int offset, NumericKind kind, ulong delta, CancellationToken cancellation)
    {
        var size = PageAtomics.SizeOf(kind);
        CheckElement(offset, size);
        return MutateAsync(epoch, offset, size, (kind, delta),
            static (element, operands) => PageAtomics.Add(element, operands.kind, operands.delta), cancellation);
    }

    public Task<ulong> Exchange(long epoch, int offset, int size, ulong value, CancellationToken cancellation)
    {
        CheckElement(offset, size);
        return MutateAsync(epoch, offset, size, value, static (element, value) =>
        {
            var original = PageAtomics.Load(element);
            PageAtomics.Store(element, value);
            return original;
        }, cancellation);
    }

    public Task<ulong> CompareExchange(long epoch, int offset, int size, ulong value, ulong comparand, CancellationToken cancellation)
    {
        CheckElement(offset, size);
        return MutateAsync(epoch, offset, size, (value, comparand), static (element, operands) =>
        {
            var original = PageAtomics.Load(element);
            if (original == operands.comparand) PageAtomics.Store(element, operands.value);
            return original;
        }, cancellation);
    }

    public async Task Release(long epoch)
    {
        if (stored.RecordExists && stored.State.Epoch == epoch)
            await stored.ClearStateAsync();
        stored.State = new PageState();
        DeactivateOnIdle();
    }

    public Task<PageSummary> GetState()
    {
        var state = stored.State;
        var bytes = stored.RecordExists ? state.Bytes : new byte[_pageSize];
        return Task.FromResult(new PageSummary(
            PageNumber,
            stored.RecordExists ? state.Epoch : 0,
            stored.RecordExists ? state.Version : 0,
            stored.RecordExists,
            Crc32.HashToUInt32(bytes),
            Convert.ToHexString(bytes.AsSpan(0, Math.Min(16, bytes.Length)))));
    }

    /// <summary>The page's bytes for <paramref name="epoch"/>, or null when it reads as zeros.</summary>
    private byte[]? StoredBytes(long epoch)
    {
        if (!stored.RecordExists) return null;
        var state = stored.State;
        if (state.Epoch == epoch) return state.Bytes;
        // Bytes of a newer allocation mean the caller's region was freed and the range reused; bytes of an older
        // one are left over from a free that did not finish, and belong to no live region.
        if (state.Epoch > epoch) throw new RegionFreedException($"The region of allocation epoch {epoch} has been freed.");
        return null;
    }

    /// <summary>
    /// Applies <paramref name="mutate"/> to bytes [offset, offset + length) and stores the page before returning. If
    /// storing fails, the bytes are put back, so no caller ever observes a change that storage does not hold.
    /// </summary>
    private async Task<ulong> MutateAsync<TOperand>(
        long epoch, int offset, int length, TOperand operand,
        Func<Span<byte>, TOperand, ulong> mutate, CancellationToken cancellation)
    {
        await regions.RequireLive(epoch, PageNumber, cancellation);
        var previous = stored.State;
        var bytes = StoredBytes(epoch);
        var firstWrite = bytes is null;
        if (bytes is null)
        {
            await GrainFactory.GetGrain<IRegionGrain>(epoch).RecordTouched(PageNumber);
            bytes = new byte[_pageSize];
            stored.State = new PageState { Epoch = epoch, Bytes = bytes };
        }

        var undo = firstWrite ? null : ArrayPool<byte>.Shared.Rent(length);
        var range = bytes.AsSpan(offset, length);
        if (undo is not null) range.CopyTo(undo);
        try
        {
            var result = mutate(range, operand);
            stored.State.Version++;
            await stored.WriteStateAsync(cancellation);
            return result;
        }
        catch
        {
            if (undo is null)
            {
                stored.State = previous;
            }
            else
            {
                undo.AsSpan(0, length).CopyTo(bytes.AsSpan(offset, length));
                stored.State.Version--;
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
    private async Task ReplaceAsync(long epoch, byte[] bytes, CancellationToken cancellation)
    {
        await regions.RequireLive(epoch, PageNumber, cancellation);
        var previous = stored.State;
        var firstWrite = StoredBytes(epoch) is null;
        if (firstWrite) await GrainFactory.GetGrain<IRegionGrain>(epoch).RecordTouched(PageNumber);
        stored.State = new PageState { Epoch = epoch, Version = firstWrite ? 1 : previous.Version + 1, Bytes = bytes };
        try
        {
            await stored.WriteStateAsync(cancellation);
        }
        catch
        {
            stored.State = previous;
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
