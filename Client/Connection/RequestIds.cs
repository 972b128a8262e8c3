using OrleansDsm.Pages;

namespace OrleansDsm.Connection;

/// <summary>Hands out the ids of one client session's mutations: never the same twice.</summary>
internal sealed class RequestIds(Guid session)
{
    private long _last;

    public Guid Session { get; } = session;

    public RequestId Next() => new(Session, Interlocked.Increment(ref _last));

    /// <summary>The first of <paramref name="count"/> consecutive ids, all reserved for the caller.</summary>
    public RequestId Reserve(int count) => new(Session, Interlocked.Add(ref _last, count) - count + 1);
}
