namespace OrleansDsm.Locks;

/// <summary>A granted hold on a lock: its fencing token (larger than every earlier one) and its lease.</summary>
[GenerateSerializer, Immutable]
public sealed record LockGrant([property: Id(0)] long Token, [property: Id(1)] TimeSpan Lease);
