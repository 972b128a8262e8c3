using OrleansDsm.Caching;

namespace OrleansDsm.Pages;

/// <summary>
/// One page of the address space, keyed by its page number. Each mutation is applied atomically, in the order the page
/// receives them, and returns only after the page's new state is stored: concurrent mutations share one storage write.
/// Reads and fills see only stored state, so no value read can be lost in a crash.
/// Every call carries the allocation epoch of the region the caller believes it is using; a call whose region
/// has been freed fails with <see cref="RegionFreedException"/>.
/// A page never written reads as zeros and has no activation state or storage row until its first write.
/// Mutations carry a <see cref="RequestId"/>. Before a stored mutation becomes visible, every session caching an older
/// copy (the writer's own copy of the version just before excepted: its client applies its change) has dropped it, or
/// its lease has run out. A mutation sent again with the same id, among the page's last
/// <c>PageState.RecentRequests</c> mutations, returns its original result without being applied again.
/// </summary>
public interface IPageGrain : IGrainWithIntegerKey
{
    /// <summary>Reads one element of 1 to 8 bytes at <paramref name="offset"/>, returned in the low bytes.</summary>
    [ReadOnly]
    Task<ulong> ReadElement(long epoch, int offset, int size, CancellationToken cancellation = default);

    /// <summary>
    /// Reads <paramref name="length"/> bytes at <paramref name="offset"/>. The array is shared and must never be changed:
    /// a caller in the same silo that reads the whole page gets the page's committed image itself, which no write
    /// changes (writes make a new image). Wrapped in <see cref="Immutable{T}"/> because Orleans deep-copies every
    /// response otherwise (twice, for local and remote callers alike) and does not honour <c>[return: Immutable]</c>.
    /// </summary>
    [ReadOnly]
    Task<Immutable<byte[]>> Read(long epoch, int offset, int length, CancellationToken cancellation = default);

    /// <summary>Writes one element of 1 to 8 bytes, taken from the low bytes of <paramref name="value"/>; returns the page's new version.</summary>
    [AlwaysInterleave]
    Task<long> WriteElement(long epoch, RequestId request, int offset, int size, ulong value, CancellationToken cancellation = default);

    /// <summary>
    /// Writes <paramref name="bytes"/> at <paramref name="offset"/>, all at once, and returns the page's new version. The
    /// page may keep the array, so a caller in the same silo must not change it afterwards (it is not copied for local calls).
    /// </summary>
    [AlwaysInterleave]
    Task<long> Write(long epoch, RequestId request, int offset, [Immutable] byte[] bytes, CancellationToken cancellation = default);

    /// <summary>
    /// Writes every one of <paramref name="runs"/> (separate places of the page, in order, a later run winning where two
    /// overlap) all at once, as one mutation, and returns the page's new version: how a release sends only the bytes a
    /// client changed. The page may keep the arrays, as with <see cref="Write"/>.
    /// </summary>
    [AlwaysInterleave]
    Task<long> WriteRuns(long epoch, RequestId request, [Immutable] ByteRun[] runs, CancellationToken cancellation = default);

    /// <summary>Adds <paramref name="delta"/> to the element and returns the new value, as <c>Interlocked.Add</c>.</summary>
    [AlwaysInterleave]
    Task<ElementUpdate> Add(long epoch, RequestId request, int offset, NumericKind kind, ulong delta, CancellationToken cancellation = default);

    /// <summary>Stores <paramref name="value"/> and returns the element's original value, as <c>Interlocked.Exchange</c>.</summary>
    [AlwaysInterleave]
    Task<ElementUpdate> Exchange(long epoch, RequestId request, int offset, int size, ulong value, CancellationToken cancellation = default);

    /// <summary>
    /// Stores <paramref name="value"/> if the element equals <paramref name="comparand"/> bit for bit, and returns the
    /// element's original value either way, as <c>Interlocked.CompareExchange</c>.
    /// </summary>
    [AlwaysInterleave]
    Task<ElementUpdate> CompareExchange(long epoch, RequestId request, int offset, int size, ulong value, ulong comparand, CancellationToken cancellation = default);

    /// <summary>
    /// Returns the whole page for a client cache and records <paramref name="holder"/> as holding it, renewing the
    /// session's lease on this silo. The copy stays valid for the session until the page revokes it or the lease ends.
    /// </summary>
    [ReadOnly]
    Task<PageCopy> Fill(long epoch, Guid session, ICacheHolder holder, CancellationToken cancellation = default);

    /// <summary>
    /// Returns true once the element of <paramref name="size"/> bytes at <paramref name="offset"/> holds something other
    /// than <paramref name="expected"/> in the committed page (at once if it already does), or false after
    /// <paramref name="wait"/> (at most 5 s), or earlier when the page's activation starts to deactivate: a caller that
    /// asks again reaches the next activation.
    /// </summary>
    [AlwaysInterleave]
    Task<bool> WaitForChange(long epoch, int offset, int size, ulong expected, TimeSpan wait, CancellationToken cancellation = default);

    /// <summary>Renews <paramref name="session"/>'s lease on the silo that holds this page.</summary>
    [AlwaysInterleave]
    Task<LeaseGrant> Renew(Guid session);

    /// <summary>
    /// Returns once every session caching a copy older than <paramref name="version"/> (<see cref="long.MaxValue"/>:
    /// every copy) has dropped it or its lease has run out. A silo stopping gracefully calls it on its cached pages
    /// while clients can still answer, before Orleans tells them to stop sending to it.
    /// </summary>
    Task RevokeCopiesOlderThan(long version);

    /// <summary>Deletes the page's stored state if it belongs to <paramref name="epoch"/>. Called when a region is freed.</summary>
    Task Release(long epoch);

    /// <summary>A summary of the page for inspection. The only parameterless method, as the dashboard requires.</summary>
    [ReadOnly]
    Task<PageSummary> GetState();
}
