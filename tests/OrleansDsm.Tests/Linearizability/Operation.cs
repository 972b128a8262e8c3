namespace OrleansDsm.Tests.Linearizability;

/// <summary>The operations on one shared int64 cell that histories record.</summary>
public enum OperationKind { Read, Write, Add, CompareExchange, Exchange }

/// <summary>
/// One operation of a history on one cell: when it was called and when it returned (<see cref="long.MaxValue"/> when
/// it never did), and its result, null when unknown. An operation with an unknown outcome may have taken effect at
/// any time after its call, or not at all.
/// </summary>
public sealed record Operation(long Id, int Cell, OperationKind Kind, long Argument, long Comparand, long? Result, long Called, long Returned)
{
    public bool Pending => Result is null;
}
