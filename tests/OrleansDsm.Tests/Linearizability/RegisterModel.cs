namespace OrleansDsm.Tests.Linearizability;

/// <summary>The sequential specification of one int64 element: what each operation returns and leaves behind.</summary>
public static class RegisterModel
{
    /// <summary>
    /// Applies <paramref name="operation"/> to <paramref name="state"/>: whether the recorded result is what the
    /// specification returns (any result is allowed for an operation whose result is unknown), and the next state.
    /// </summary>
    public static (bool Allowed, long Next) Step(long state, Operation operation)
    {
        var (returns, next) = operation.Kind switch
        {
            OperationKind.Read => (state, state),
            OperationKind.Write => (0L, operation.Argument),
            OperationKind.Add => (unchecked(state + operation.Argument), unchecked(state + operation.Argument)),
            OperationKind.CompareExchange => (state, state == operation.Comparand ? operation.Argument : state),
            OperationKind.Exchange => (state, operation.Argument),
            _ => throw new ArgumentOutOfRangeException(nameof(operation), operation.Kind, "Unknown operation."),
        };
        return (operation.Result is null || operation.Result == returns, next);
    }
}
