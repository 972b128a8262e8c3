using System.Diagnostics;
using System.Text.Json;

namespace OrleansDsm.TestWorker;

/// <summary>
/// Runs random reads, writes, adds, exchanges and compare-exchanges on a few int64 cells from several concurrent
/// tasks, and records every call and return in a history file for the linearizability checker. Cell c is element
/// <c>c * CellSpacing</c>, so cells fall on different pages as well as sharing some. Each task makes at least the
/// operations it is given, and goes on, up to <see cref="MostOperationsPerMinimum"/> times as many, until the test
/// signals that it has disturbed the cluster enough (see <see cref="StopSignal"/>).
/// </summary>
public static class HistoryWorkload
{
    public const int CellSpacing = 300;

    /// <summary>How many times its minimum a task runs at most while it waits for the stop signal.</summary>
    public const int MostOperationsPerMinimum = 6;

    public static async Task RunAsync(DsmClient client, string region, int cells, int tasks, int operationsPerTask, int process, string output)
    {
        var array = await client.OpenAsync<long>(region);

        // Processes take about a second to start; the test says go once every one is connected, so their
        // operations overlap instead of running one process after another.
        Console.WriteLine("ready");
        var go = StartSignal(output);
        while (!File.Exists(go)) await Task.Delay(5);
        var stop = StopSignal(output);

        await using var file = new StreamWriter(output) { AutoFlush = true };
        var gate = new object();
        void Record(HistoryRecord record)
        {
            var line = JsonSerializer.Serialize(record);
            lock (gate) file.WriteLine(line);
        }

        await Task.WhenAll(Enumerable.Range(0, tasks).Select(task => Task.Run(async () =>
        {
            var random = new Random(process * 1000 + task);
            var lastSeen = new long[cells];
            for (var n = 0; n < operationsPerTask || (n < MostOperationsPerMinimum * operationsPerTask && !File.Exists(stop)); n++)
            {
                var id = ((long)process * 1000 + task) * 100_000 + n;
                var cell = random.Next(cells);
                var index = (long)cell * CellSpacing;
                var unique = id; // written values are unique, which keeps the search small
                var roll = random.Next(100);
                var (kind, argument, comparand) = roll switch
                {
                    < 40 => (OperationKinds.Read, 0L, 0L),
                    < 60 => (OperationKinds.Write, unique, 0L),
                    < 80 => (OperationKinds.Add, (long)random.Next(1, 100), 0L),
                    < 90 => (OperationKinds.CompareExchange, unique, lastSeen[cell]),
                    _ => (OperationKinds.Exchange, unique, 0L),
                };
                Record(new HistoryRecord(HistoryRecord.Call, id, Stopwatch.GetTimestamp(), cell, kind, argument, comparand));
                long result;
                try
                {
                    result = kind switch
                    {
                        OperationKinds.Read => await array.GetAsync(index),
                        OperationKinds.Write => await Write(array, index, argument),
                        OperationKinds.Add => await array.AddAsync(index, argument),
                        OperationKinds.CompareExchange => await array.CompareExchangeAsync(index, argument, comparand),
                        _ => await array.ExchangeAsync(index, argument),
                    };
                }
                catch (Exception error)
                {
                    // The outcome is unknown: leave the call without a return, as the checker expects.
                    Console.Error.WriteLine($"operation {id} failed: {error.GetBaseException().Message}");
                    continue;
                }
                Record(new HistoryRecord(HistoryRecord.Return, id, Stopwatch.GetTimestamp(), Result: result));
                lastSeen[cell] = kind == OperationKinds.Add ? result : kind == OperationKinds.Write ? argument : result;
            }
        })));
        Console.WriteLine(DirectServedLine + (client.Direct?.Served ?? 0));
        Console.WriteLine("history done");
    }

    /// <summary>How a worker's last lines begin the count of gets and sets its direct channel served.</summary>
    public const string DirectServedLine = "direct served ";

    /// <summary>The file whose appearance starts every worker writing histories into the same folder.</summary>
    public static string StartSignal(string output) => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(output))!, "go");

    /// <summary>
    /// The file whose appearance ends every worker's tasks once each has made its minimum of operations. A test whose
    /// disturbance must have happened several times under the workers keeps them going until it has; others create
    /// it with the start signal.
    /// </summary>
    public static string StopSignal(string output) => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(output))!, "stop");

    private static async Task<long> Write(Arrays.SharedArray<long> array, long index, long value)
    {
        await array.SetAsync(index, value);
        return 0;
    }
}
