namespace OrleansDsm.Regions;

/// <summary>
/// The consistency a region promises its readers and writers. A region's consistency is chosen when it is
/// allocated and never changes. It is a record rather than an enum because later modes carry parameters.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record Consistency
{
    private Consistency(ConsistencyKind kind) => Kind = kind;

    /// <summary>Which model this is.</summary>
    [Id(0)]
    public ConsistencyKind Kind { get; init; }

    /// <summary>
    /// Every single-element operation (get, set, add, exchange, compare-exchange) is linearizable: it takes
    /// effect atomically at one instant between its call and its return, and every later operation, from any
    /// process, sees it. The default.
    /// </summary>
    public static Consistency Strict { get; } = new(ConsistencyKind.Strict);

    /// <inheritdoc />
    public override string ToString() => Kind.ToString();
}

/// <summary>The kinds of <see cref="Consistency"/>.</summary>
public enum ConsistencyKind
{
    /// <summary>See <see cref="Consistency.Strict"/>.</summary>
    Strict = 0,
}
