namespace OrleansDsm.Locks;

/// <summary>
/// What a write made under a <c>SharedLock</c> carries: the lock's name and the fencing token of the hold. A page
/// applies the write only while that token is the lock's current one and its lease runs.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record LockFence([property: Id(0)] string Lock, [property: Id(1)] long Token);
