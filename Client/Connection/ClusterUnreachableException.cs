namespace OrleansDsm.Connection;

/// <summary>No gateway of the cluster answered when the client connected, or a gateway's host name did not resolve.</summary>
/// <param name="where">The gateways the client tried, as given, or where it looked them up.</param>
/// <param name="reason">Why it could not reach them, without a closing period.</param>
/// <param name="inner">The failure behind it.</param>
public sealed class ClusterUnreachableException(string where, string reason, Exception inner)
    : Exception($"Cannot reach the cluster at {where}: {reason.TrimEnd('.')}.", inner);
