namespace OrleansDsm.Caching;

/// <summary>
/// What a silo grants a cache session with each fill and renewal: a lease on every page of that silo the session caches.
/// </summary>
/// <param name="Silo">The silo that granted it.</param>
/// <param name="Term">
/// Names the session's unbroken lease on this silo. It grows (it is read from the silo's monotonic clock) whenever a
/// request finds the session's lease already ended: pages stop revoking a session whose lease has ended, so copies
/// cached in an earlier term may be stale and no later grant may revive them.
/// </param>
/// <param name="LeaseMilliseconds">How long the silo honours the lease from when the request arrived.</param>
[GenerateSerializer, Immutable]
public sealed record LeaseGrant(string Silo, long Term, int LeaseMilliseconds);
