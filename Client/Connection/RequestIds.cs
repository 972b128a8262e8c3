using System.Runtime.CompilerServices;
using OrleansDsm.Locks;
using OrleansDsm.Pages;

namespace OrleansDsm.Connection;

/// <summary>
/// Hands out the ids of one client session's mutations: never the same twice. A fenced view shares the session's
/// numbering and stamps each id with a lock hold (see <see cref="RequestId.Fence"/>).
/// </summary>
internal sealed class RequestIds
{
    private readonly StrongBox<long> _last;
    private readonly LockFence? _fence;

    public RequestIds(Guid session) : this(session, new StrongBox<long>(), null) { }

    private RequestIds(Guid session, StrongBox<long> last, LockFence? fence) => (Session, _last, _fence) = (session, last, fence);

    public Guid Session { get; }

    /// <summary>The lock hold every id carries, or null.</summary>
    public LockFence? Fence => _fence;

    /// <summary>The same numbering, with every id carrying <paramref name="fence"/>.</summary>
    public RequestIds Fenced(LockFence fence) => new(Session, _last, fence);

    public RequestId Next() => new(Session, Interlocked.Increment(ref _last.Value), Fence: _fence);

    /// <summary>The first of <paramref name="count"/> consecutive ids, all reserved for the caller.</summary>
    public RequestId Reserve(int count) => new(Session, Interlocked.Add(ref _last.Value, count) - count + 1, Fence: _fence);
}
