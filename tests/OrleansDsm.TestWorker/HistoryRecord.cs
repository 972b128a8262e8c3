namespace OrleansDsm.TestWorker;

/// <summary>
/// One line of a history file, as JSON. A worker writes a <c>call</c> line just before it invokes an operation and
/// a <c>return</c> line when the result arrives, each stamped with <see cref="System.Diagnostics.Stopwatch"/> ticks
/// (CLOCK_MONOTONIC on Linux, comparable between processes on one machine). An operation with a call and no
/// return (its process died, or the call failed) has an unknown outcome.
/// </summary>
public sealed record HistoryRecord(
    string Event,
    long Id,
    long Ticks,
    int Cell = 0,
    string Kind = "",
    long Argument = 0,
    long Comparand = 0,
    long Result = 0)
{
    public const string Call = "call";
    public const string Return = "return";
}

/// <summary>The operations a history may contain.</summary>
public static class OperationKinds
{
    public const string Read = "read";
    public const string Write = "write";
    public const string Add = "add";
    public const string CompareExchange = "cas";
    public const string Exchange = "exchange";
}
