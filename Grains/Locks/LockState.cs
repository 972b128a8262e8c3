namespace OrleansDsm.Grains.Locks;

/// <summary>The stored form of a lock: its last fencing token, who holds it, and for how long each renewal lets them.</summary>
[GenerateSerializer]
internal sealed class LockState
{
    /// <summary>The token of the last grant; the next grant's is larger.</summary>
    [Id(0)]
    public long Token { get; set; }

    /// <summary>The holder of the last grant, or <see cref="Guid.Empty"/> once it was released.</summary>
    [Id(1)]
    public Guid Holder { get; set; }

    /// <summary>The lease of the last grant.</summary>
    [Id(2)]
    public TimeSpan Lease { get; set; }
}
