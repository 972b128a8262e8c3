namespace OrleansDsm.Connection;

/// <summary>No gateway of the cluster answered when the client connected.</summary>
public sealed class ClusterUnreachableException(string message, Exception inner) : Exception(message, inner);
