namespace OrleansDsm.Regions;

/// <summary>
/// The consistency a region promises its readers and writers. A region's consistency is chosen when it is
/// allocated and never changes. It is a record rather than an enum because later modes carry parameters.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record Consistency
{
    private Consistency(ConsistencyKind kind, TimeSpan maxStaleness = default)
    {
        Kind = kind;
        MaxStaleness = maxStaleness;
    }

    /// <summary>Which model this is.</summary>
    [Id(0)]
    public ConsistencyKind Kind { get; init; }

    /// <summary>For <see cref="ConsistencyKind.Bounded"/>: how old a value a read may return.</summary>
    [Id(1)]
    public TimeSpan MaxStaleness { get; init; }

    /// <summary>
    /// Every single-element operation (get, set, add, exchange, compare-exchange) is linearizable: it takes
    /// effect atomically at one instant between its call and its return, and every later operation, from any
    /// process, sees it. Reads are served from the client's page cache when it holds a valid copy; a write
    /// completes only after every other cached copy is dropped or its lease has run out. The default.
    /// </summary>
    public static Consistency Strict { get; } = new(ConsistencyKind.Strict);

    /// <summary>
    /// Linearizable like <see cref="Strict"/>, but nothing is cached: every read is a grain call. For data that is
    /// written far more often than it is read.
    /// </summary>
    public static Consistency Uncached { get; } = new(ConsistencyKind.Uncached);

    /// <summary>
    /// Release consistency, for programs that synchronize with locks and barriers. A client keeps its writes (set and
    /// range writes) to the region in memory, reading them back itself, until a release point: disposing a lock hold,
    /// arriving at a barrier, <c>DsmClient.ReleaseAsync</c>, or an atomic operation or wait on the same page. There it
    /// sends each dirty page's changed bytes in one call, applied to that page at once; the release returns once every
    /// page has stored them. Another process is sure to see them once it acquires after that release (it got the lock,
    /// or passed the barrier); before then it may see none, some or all. Reads come from the same coherent cache as
    /// <see cref="Strict"/> (so there is nothing to do at acquire), and atomic operations stay linearizable. A crash of
    /// the writing process before its release loses its unreleased writes; a crash during a release may leave some
    /// pages with their new bytes and others without, each page whole.
    /// </summary>
    public static Consistency Release { get; } = new(ConsistencyKind.Release);

    /// <summary>
    /// For read-mostly data: a read returns a value the element held at some moment no more than
    /// <paramref name="maxStaleness"/> before the read began (measured on the reading client's clock), and each client
    /// reads its own writes. Writes are linearizable among themselves and cost no revocation round trip, because
    /// readers of a Bounded region do not register with the page; they re-read a page once their copy is that old.
    /// For the same reason a freed Bounded region's cached copies are served until they reach the bound, and only then
    /// does a read fail with <see cref="RegionFreedException"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The bound is not positive, or longer than a day.</exception>
    public static Consistency Bounded(TimeSpan maxStaleness) =>
        maxStaleness > TimeSpan.Zero && maxStaleness <= TimeSpan.FromDays(1)
            ? new Consistency(ConsistencyKind.Bounded, maxStaleness)
            : throw new ArgumentOutOfRangeException(nameof(maxStaleness), maxStaleness, "A staleness bound is positive and at most one day.");

    /// <inheritdoc />
    public override string ToString() => Kind == ConsistencyKind.Bounded ? $"Bounded({MaxStaleness})" : Kind.ToString();
}

/// <summary>The kinds of <see cref="Consistency"/>.</summary>
public enum ConsistencyKind
{
    /// <summary>See <see cref="Consistency.Strict"/>.</summary>
    Strict = 0,

    /// <summary>See <see cref="Consistency.Bounded"/>.</summary>
    Bounded = 1,

    /// <summary>See <see cref="Consistency.Uncached"/>.</summary>
    Uncached = 2,

    /// <summary>See <see cref="Consistency.Release"/>.</summary>
    Release = 3,
}
