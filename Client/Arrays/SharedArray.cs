using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using OrleansDsm.Buffering;
using OrleansDsm.Caching;
using OrleansDsm.Connection;
using OrleansDsm.Direct;
using OrleansDsm.Pages;

namespace OrleansDsm.Arrays;

/// <summary>
/// A typed view of a region of the cluster's shared memory: an array of <typeparamref name="T"/> that every process
/// connected to the cluster can read, write and update atomically.
/// </summary>
/// <remarks>
/// <para><b>Memory model.</b> It depends on the region's <see cref="Consistency"/>, fixed at allocation. In
/// <see cref="Consistency.Strict"/> (the default) and <see cref="Consistency.Uncached"/> regions each single-element
/// operation (<see cref="GetAsync"/>, <see cref="SetAsync"/>, <see cref="AddAsync"/>, <see cref="ExchangeAsync"/>,
/// <see cref="CompareExchangeAsync"/>) is atomic and linearizable: it takes effect at one instant between its call and
/// its return, and every operation that starts later, in any process, sees its effect. Strict reads are served from
/// the client's page cache while its copy is valid (no grain call); writes revoke other clients' copies first. In a
/// <see cref="Consistency.Bounded"/> region a read may return a value up to the region's staleness bound old, and a
/// client always reads its own writes. Range operations (<see cref="ReadAsync"/>, <see cref="WriteAsync"/>) are atomic
/// per page only: each page's part is applied at once, but another process may see some pages of a range write
/// before others. In a <see cref="Consistency.Release"/> region, sets and range writes stay in this client (which reads
/// them back) until a release point (a lock hold disposed, a barrier arrival, <see cref="DsmClient.ReleaseAsync"/>), and
/// other processes are sure to see them once they acquire after it; atomic operations and waits are linearizable, and
/// first release this client's writes to their page. An acknowledged write has been stored by the cluster's storage provider (with the default
/// in-memory storage it is lost when the silo stops).</para>
/// <para><b>Errors.</b> An index out of range throws <see cref="ArgumentOutOfRangeException"/> before any call is made.
/// A handle to a region that has since been freed throws <see cref="RegionFreedException"/>. A call that fails leaves
/// memory as it was, except that a range write that fails part way may have applied some of its pages.</para>
/// <para><b>Threads.</b> Instances are immutable and safe to use from any number of threads at once.</para>
/// </remarks>
/// <typeparam name="T">The element type: unmanaged, with a size that divides the cluster's page size.</typeparam>
public sealed partial class SharedArray<T> where T : unmanaged
{
    // Well under any client response timeout, so a long wait is a few calls, never a timed-out one.
    private static readonly TimeSpan LongestWaitPerCall = TimeSpan.FromSeconds(2);
    private readonly PageReferences _pages;
    private readonly PageCache? _cache;
    // Null unless the region is a Release region: then sets and range writes wait here for a release.
    private readonly ReleaseBuffer? _buffer;
    private readonly ReleaseBuffer _releases;
    private readonly RequestIds _requests;
    private readonly TransientRetry _retry;
    private readonly int _shift;
    private readonly int _pageMask;
    // Region.ElementCount and Region.FirstPage, kept here for the indexer's path, where every load counts.
    private readonly long _length, _firstPage;
    private long _lastMissedPage = -2;
    // This handle's own direct-mapped index of the cached pages it read (created at its first hit): a hit found here
    // costs no call into the cache's index and no store, so random reads over the pages a handle works on cost about
    // what a run of reads from one page does. A copy the cache lets go of stays alive here until its slot is reused,
    // so the index covers at most RecentHitSlots pages and RecentHitBytes of them.
    private RecentHit[]? _recentHits;
    // The cache's hit counters, kept here for the same reason as _length; null without a cache.
    private readonly long[]? _hitStripes;
    private const int RecentHitSlots = 1024;
    private const long RecentHitBytes = 8 << 20;
    private readonly AddCombiner _adds;

    internal SharedArray(PageReferences pages, PageCache? cache, ReleaseBuffer releases, RequestIds requests, TransientRetry retry, RegionDescriptor region)
    {
        _pages = pages;
        _releases = releases;
        _buffer = region.Consistency.Kind == ConsistencyKind.Release ? releases : null;
        _requests = requests;
        _retry = retry;
        _cache = region.Consistency.Kind == ConsistencyKind.Uncached ? null : cache;
        _hitStripes = _cache?.Metrics.HitStripes;
        Region = region;
        _shift = region.Geometry.Shift;
        _pageMask = region.PageSize - 1;
        (_length, _firstPage) = (region.ElementCount, region.FirstPage);
        _adds = new AddCombiner(SendAddAsync);
    }

    /// <summary>
    /// This array with every write made through it carrying <paramref name="hold"/>: a page applies such a write only
    /// while the hold is its lock's current one, and otherwise refuses it with <see cref="LockLostException"/>, so a
    /// holder whose lease ran out (paused, cut off) cannot overwrite what the next holder does, on any page.
    /// </summary>
    public SharedArray<T> Fenced(Locks.LockHandle hold)
    {
        ArgumentNullException.ThrowIfNull(hold);
        return new SharedArray<T>(_pages, _cache, _releases, _requests.Fenced(hold.Fence), _retry, Region) { OwnerToken = OwnerToken, Mapper = Mapper, Direct = Direct };
    }

    /// <summary>The client's direct channel, which serves gets of an Uncached region and unfenced sets and atomics when it is open; null when off.</summary>
    internal DirectChannel? Direct { get; init; }

    /// <summary>The client's mapper (its mappings' pager), when the client made its connection itself; null otherwise.</summary>
    internal Mapping.Mapper? Mapper { get; init; }

    /// <summary>
    /// Maps the region into this process's memory: loads and stores through <see cref="Mapping.MappedRegion{T}.GetSpan"/> or its
    /// pointer, each page fetched from the cluster at its first touch by the client's pager process, serving the page faults
    /// (Linux <c>userfaultfd</c>), and the changed 8-byte words sent back at <see cref="Mapping.MappedRegion{T}.ReleaseAsync"/>. Nothing is
    /// copied at map time, whatever the region's size. See <see cref="Mapping.MappedRegion{T}"/> for the memory model.
    /// </summary>
    /// <exception cref="NotSupportedException">
    /// userfaultfd is not available (not root, and <c>vm.unprivileged_userfaultfd</c> is 0; or the kernel is older than
    /// 5.19), the page size is not a multiple of the system's, the client was not made by
    /// <see cref="DsmClient.ConnectAsync"/>, or the pager is not beside the application. The message names which.
    /// </exception>
    /// <exception cref="PlatformNotSupportedException">This is not Linux on x64 or arm64.</exception>
    public Task<Mapping.MappedRegion<T>> MapAsync(Mapping.MappingOptions? options = null, CancellationToken cancellation = default) =>
        Mapping.MappedRegion<T>.MapAsync(Region, Mapper, options ?? new Mapping.MappingOptions(), cancellation);

    /// <summary>A handle to the same region that can only read it, for code that must not change it.</summary>
    public ReadOnlySharedArray<T> AsReadOnly() => new(this);

    /// <summary>The region's metadata: name, base address, type, epoch and consistency.</summary>
    public RegionDescriptor Region { get; }

    /// <summary>
    /// On the handle an allocation returned, the token that frees the region (the client that allocated it frees it
    /// without asking; another process needs this token, see <see cref="DsmClient.FreeAsync(string, string, CancellationToken)"/>);
    /// null on handles that opened the region. Keep it secret: whoever has it can free the region.
    /// </summary>
    public string? OwnerToken { get; internal init; }

    /// <summary>The region's name.</summary>
    public string Name => Region.Name;

    /// <summary>How many elements the array holds.</summary>
    public long Length => Region.ElementCount;

    /// <summary>The address of element 0.</summary>
    public GlobalAddress BaseAddress => Region.BaseAddress;

    /// <summary>
    /// Reads or writes one element, blocking the calling thread until the cluster answers. A convenience for scripts
    /// and tests: never use it inside a grain (it blocks the grain's scheduler) or on a thread that must stay
    /// responsive; prefer <see cref="GetAsync"/> and <see cref="SetAsync"/>.
    /// </summary>
    public T this[long index]
    {
        get
        {
            var (page, offset) = Locate(index);
            return TryReadRecentStrict(page, offset, out var value) ? value : GetElsewhere(page, offset);
        }
        set => SetAsync(index, value).GetAwaiter().GetResult();
    }

    /// <summary>Reads element <paramref name="index"/>. Linearizable.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is outside [0, <see cref="Length"/>).</exception>
    /// <exception cref="RegionFreedException">The region has been freed.</exception>
    public ValueTask<T> GetAsync(long index, CancellationToken cancellation = default)
    {
        var (page, offset) = Locate(index);
        return TryReadRecentStrict(page, offset, out var value) ? ValueTask.FromResult(value) : GetElsewhereAsync(page, offset, cancellation);
    }

    /// <summary>The indexer's read when this handle's index of recent hits has no valid Strict copy of the page.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private T GetElsewhere(long page, int offset)
    {
        if (TryReadUnreleased(page, offset, out var value) || TryReadCached(page, offset, out value)) return value;
        var read = GetFromPageAsync(page, offset, CancellationToken.None);
        return read.IsCompletedSuccessfully ? read.Result : read.AsTask().GetAwaiter().GetResult();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ValueTask<T> GetElsewhereAsync(long page, int offset, CancellationToken cancellation) =>
        TryReadUnreleased(page, offset, out var value) || TryReadCached(page, offset, out value)
            ? ValueTask.FromResult(value)
            : GetFromPageAsync(page, offset, cancellation);

    /// <summary>Writes element <paramref name="index"/>; returns once the write is stored. Linearizable.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is outside [0, <see cref="Length"/>).</exception>
    /// <exception cref="RegionFreedException">The region has been freed.</exception>
    public async Task SetAsync(long index, T value, CancellationToken cancellation = default)
    {
        var (page, offset) = Locate(index);
        if (_buffer is not null)
        {
            while (!_buffer.TryWrite(page, Region.Epoch, Region.PageSize, _requests, offset, MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value))))
                await _buffer.ReleasePageAsync(page, Region.Epoch, _requests, cancellation);
            return;
        }
        if (!ElementCodec<T>.IsWord)
        {
            await WriteAsync(index, new[] { value }, cancellation);
            return;
        }
        var bits = ElementCodec<T>.ToBits(value);
        await MutateAsync(page, offset, async (grain, request) =>
            new ElementUpdate(0, await grain.WriteElement(Region.Epoch, request, offset, ElementCodec<T>.Size, bits, cancellation)), _ => bits, cancellation,
            OverChannel(DirectOperation.Set, page, offset, bits, cancellation));
    }

    /// <summary>
    /// How a set or an atomic goes over the direct channel, or null when it cannot: there is no open connection, or the
    /// write is fenced (the channel carries no lock fence, so a fenced write is a call, which the page checks against
    /// its lock).
    /// </summary>
    private Func<RequestId, Task<(ElementUpdate? Update, RequestId Request)>>? OverChannel(DirectOperation operation, long page, int offset, ulong value,
        CancellationToken cancellation, NumericKind numeric = default, ulong comparand = 0)
    {
        if (_requests.Fence is not null || Direct?.For(page) is not { } connection) return null;
        var frame = new DirectRequest(0, operation, ElementCodec<T>.Size, Region.Epoch, page, offset, value, 0, Direct.Number, numeric, comparand);
        return request => MutateDirectAsync(connection, frame with { Sequence = request.Sequence }, request, cancellation);
    }

    /// <summary>
    /// A set or an atomic over the direct channel: its result when the channel did it; otherwise null, with the id the
    /// call must send, marked as a retry when the channel's attempt may have applied.
    /// </summary>
    private async Task<(ElementUpdate? Update, RequestId Request)> MutateDirectAsync(DirectConnection connection, DirectRequest frame, RequestId request,
        CancellationToken cancellation)
    {
        var reply = await connection.SendAsync(frame).WaitAsync(cancellation);
        Direct!.Replied(frame.Page, connection, reply);
        if (reply.Status == DirectStatus.Done)
        {
            Direct.CountServed();
            return (new ElementUpdate(reply.Value, reply.Version), request);
        }
        return (null, reply.Status == DirectStatus.Unknown ? request.AsRetry() : request);
    }

    /// <summary>
    /// Atomically adds <paramref name="delta"/> to element <paramref name="index"/> and returns the new value, as
    /// <c>Interlocked.Add</c> does: integers wrap on overflow; floating point adds by IEEE 754 rules. Linearizable.
    /// Integer adds to one element from tasks of this handle that overlap go out as one add of their sum, each caller
    /// getting the value its own add left in some order of the overlapping adds; a caller cancelled before its add goes
    /// out is left out of it.
    /// </summary>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not int, uint, long, ulong, float or double.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The index is outside [0, <see cref="Length"/>).</exception>
    /// <exception cref="RegionFreedException">The region has been freed.</exception>
    public async Task<T> AddAsync(long index, T delta, CancellationToken cancellation = default)
    {
        var kind = ElementCodec<T>.Numeric
            ?? throw new NotSupportedException($"AddAsync works on int, uint, long, ulong, float and double elements, not {typeof(T).Name}.");
        var (page, offset) = Locate(index);
        if (kind is NumericKind.Float32 or NumericKind.Float64) return ElementCodec<T>.FromBits(await SendAddAsync(page, offset, ElementCodec<T>.ToBits(delta), cancellation));
        return ElementCodec<T>.FromBits(await _adds.AddAsync(page, offset, ElementCodec<T>.ToBits(delta), cancellation));
    }

    /// <summary>One add call: the combiner's way out, and the way of floating point adds, which are never combined.</summary>
    private Task<ulong> SendAddAsync(long page, int offset, ulong delta, CancellationToken cancellation)
    {
        var kind = ElementCodec<T>.Numeric!.Value;
        return MutateAsync(page, offset, (grain, request) => grain.Add(Region.Epoch, request, offset, kind, delta, cancellation), sum => sum, cancellation,
            OverChannel(DirectOperation.Add, page, offset, delta, cancellation, numeric: kind));
    }

    /// <summary>Atomically stores <paramref name="value"/> and returns the element's original value, as <c>Interlocked.Exchange</c>.</summary>
    /// <exception cref="NotSupportedException">The element is not 1, 2, 4 or 8 bytes.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The index is outside [0, <see cref="Length"/>).</exception>
    /// <exception cref="RegionFreedException">The region has been freed.</exception>
    public async Task<T> ExchangeAsync(long index, T value, CancellationToken cancellation = default)
    {
        RequireWord(nameof(ExchangeAsync));
        var (page, offset) = Locate(index);
        var bits = ElementCodec<T>.ToBits(value);
        return ElementCodec<T>.FromBits(await MutateAsync(page, offset, (grain, request) =>
            grain.Exchange(Region.Epoch, request, offset, ElementCodec<T>.Size, bits, cancellation), _ => bits, cancellation,
            OverChannel(DirectOperation.Exchange, page, offset, bits, cancellation)));
    }

    /// <summary>
    /// Atomically stores <paramref name="value"/> if the element equals <paramref name="comparand"/>, and returns the
    /// element's original value either way, as <c>Interlocked.CompareExchange</c>. The comparison is bitwise, so for
    /// floating point NaN equals an identical NaN and 0.0 differs from -0.0.
    /// </summary>
    /// <exception cref="NotSupportedException">The element is not 1, 2, 4 or 8 bytes.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The index is outside [0, <see cref="Length"/>).</exception>
    /// <exception cref="RegionFreedException">The region has been freed.</exception>
    public async Task<T> CompareExchangeAsync(long index, T value, T comparand, CancellationToken cancellation = default)
    {
        RequireWord(nameof(CompareExchangeAsync));
        var (page, offset) = Locate(index);
        var (bits, expected) = (ElementCodec<T>.ToBits(value), ElementCodec<T>.ToBits(comparand));
        return ElementCodec<T>.FromBits(await MutateAsync(page, offset, (grain, request) => grain.CompareExchange(
            Region.Epoch, request, offset, ElementCodec<T>.Size, bits, expected, cancellation), original => original == expected ? bits : original, cancellation,
            OverChannel(DirectOperation.CompareExchange, page, offset, bits, cancellation, comparand: expected)));
    }

    /// <summary>
    /// Returns true once element <paramref name="index"/> no longer equals <paramref name="expected"/> (compared
    /// bitwise), or false when <paramref name="timeout"/> passes first. It does not poll: the page answers when a
    /// write changes the element (one call per two seconds of waiting at most), and a read after it returns sees the change.
    /// </summary>
    /// <exception cref="NotSupportedException">The element is not 1, 2, 4 or 8 bytes.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The index is outside [0, <see cref="Length"/>), or the timeout is negative.</exception>
    /// <exception cref="RegionFreedException">The region has been freed.</exception>
    public async Task<bool> WaitForChangeAsync(long index, T expected, TimeSpan timeout, CancellationToken cancellation = default)
    {
        RequireWord(nameof(WaitForChangeAsync));
        if (timeout < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "A timeout is not negative.");
        var (page, offset) = Locate(index);
        var bits = ElementCodec<T>.ToBits(expected);
        if (_buffer is not null) await _buffer.ReleasePageAsync(page, Region.Epoch, _requests, cancellation);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            while (true)
            {
                var left = timeout - waited.Elapsed;
                var slice = TimeSpan.FromTicks(Math.Clamp(left.Ticks, 0, LongestWaitPerCall.Ticks));
                if (await _retry.RunAsync(() => _pages[page].WaitForChange(Region.Epoch, offset, ElementCodec<T>.Size, bits, slice, cancellation), cancellation))
                    return true;
                if (waited.Elapsed >= timeout) return false;
            }
        }
        catch (RegionFreedException)
        {
            throw Freed();
        }
    }

    /// <summary>
    /// Reads elements [<paramref name="start"/>, start + destination.Length) into <paramref name="destination"/>, with
    /// one concurrent call per page. Each page's part is read atomically; the range as a whole is not a snapshot.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range does not lie within the array.</exception>
    /// <exception cref="RegionFreedException">The region has been freed.</exception>
    public async Task ReadAsync(long start, Memory<T> destination, CancellationToken cancellation = default)
    {
        CheckRange(start, destination.Length);
        if (!TryReadCached(start, destination.Span))
        {
            try
            {
                // A range of up to an eighth of the cache budget fills the cache (so reading it again costs nothing); a
                // longer one reads through the batch fan-out and leaves the cache alone, so a scan does not flush it.
                if (_cache is not null && PagesOf(start, destination.Length) * Region.PageSize <= _cache.Budget / 8)
                    await FillAndReadAsync(_cache, start, destination, cancellation);
                else await PagedIo.ReadAsync(_pages, _retry, Region, start * ElementCodec<T>.Size, destination, cancellation);
            }
            catch (RegionFreedException)
            {
                throw Freed();
            }
        }
        if (_buffer is not null) LayUnreleasedOver(start, destination.Span);
    }

    /// <summary>
    /// Writes <paramref name="source"/> to elements [<paramref name="start"/>, start + source.Length), with one
    /// concurrent call per page; returns once every page is stored. Each page's part is applied atomically; if the
    /// call fails, some pages may have been written and others not.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range does not lie within the array.</exception>
    /// <exception cref="RegionFreedException">The region has been freed.</exception>
    public async Task WriteAsync(long start, ReadOnlyMemory<T> source, CancellationToken cancellation = default)
    {
        CheckRange(start, source.Length);
        if (_buffer is not null)
        {
            await BufferAsync(start, source, cancellation);
            return;
        }
        try
        {
            await PagedIo.WriteAsync(_pages, _cache, _requests, _retry, Region, start * ElementCodec<T>.Size, source, cancellation);
        }
        catch (RegionFreedException)
        {
            throw Freed();
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {Length} x {ElementCodec<T>.TypeName} at {BaseAddress}";

    /// <summary>
    /// Runs one single-element mutation as this client's session: until the write is over, neither the cache's copy
    /// of the page nor a fill that lands meanwhile serves the element, and the page revokes every other session's copy
    /// before the write becomes visible. A try that fails for a passing reason is sent again under the
    /// same request id, so the page applies it once. <paramref name="stored"/> gives, from the call's result, the bits
    /// the element now holds, so the cache can bring its own copy up to date.
    /// </summary>
    private async Task<ulong> MutateAsync(
        long page, int offset, Func<IPageGrain, RequestId, Task<ElementUpdate>> mutation, Func<ulong, ulong> stored, CancellationToken cancellation,
        Func<RequestId, Task<(ElementUpdate? Update, RequestId Request)>>? direct = null)
    {
        // An atomic operation follows this client's earlier writes to its page, as program order says.
        if (_buffer is not null) await _buffer.ReleasePageAsync(page, Region.Epoch, _requests, cancellation);
        _cache?.BeginWrite(page, (offset, ElementCodec<T>.Size));
        long? version = null;
        PageChange? change = null;
        try
        {
            var request = _requests.Next();
            // A first attempt over the direct channel, outside the retries of calls; the call takes over if it did not do it.
            var (update, first) = direct is null ? (null, request) : await direct(request);
            var applied = update ?? await _retry.RunAsync(retry => mutation(_pages[page], retry ? request.AsRetry() : first), cancellation);
            version = applied.Version;
            if (_cache is not null) change = new PageChange(offset, BitConverter.GetBytes(stored(applied.Value))[..ElementCodec<T>.Size]);
            return applied.Value;
        }
        catch (RegionFreedException)
        {
            throw Freed();
        }
        finally
        {
            _cache?.EndWrite(page, (offset, ElementCodec<T>.Size), version, change);
        }
    }

    private long PagesOf(long start, int count)
    {
        if (count == 0) return 0;
        var first = start * ElementCodec<T>.Size;
        return ((first + (long)count * ElementCodec<T>.Size - 1) >> _shift) - (first >> _shift) + 1;
    }

    private (long Page, int Offset) Locate(long index)
    {
        if ((ulong)index >= (ulong)_length) ThrowOutside(index);
        var byteOffset = index * ElementCodec<T>.Size;
        return (_firstPage + (byteOffset >> _shift), (int)(byteOffset & _pageMask));
    }

    // Out of line, so that Locate stays small enough for the JIT to inline into every element operation.
    [DoesNotReturn]
    private void ThrowOutside(long index) =>
        throw new ArgumentOutOfRangeException(nameof(index), index, $"Index {index} is outside array '{Name}' of length {Length}.");

    private void CheckRange(long start, int count)
    {
        if (start < 0 || start > Length || count > Length - start)
            throw new ArgumentOutOfRangeException(nameof(start), start,
                $"Elements [{start}, {start + count}) are not all inside array '{Name}' of length {Length}.");
    }

    private static void RequireWord(string operation)
    {
        if (!ElementCodec<T>.IsWord)
            throw new NotSupportedException($"{operation} works on elements of 1, 2, 4 or 8 bytes; {typeof(T).Name} has {ElementCodec<T>.Size}.");
    }

    private RegionFreedException Freed() =>
        new($"Region '{Name}' (allocation epoch {Region.Epoch}) has been freed; this handle can no longer be used.");
}
