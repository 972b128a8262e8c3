using System.Text.Json;
using OrleansDsm.TestWorker;

namespace OrleansDsm.Tests.Linearizability;

/// <summary>Reads the history files that worker processes write into operations for the checker.</summary>
public static class HistoryFiles
{
    public static List<Operation> Read(IEnumerable<string> paths)
    {
        var calls = new Dictionary<long, HistoryRecord>();
        var returns = new Dictionary<long, HistoryRecord>();
        foreach (var path in paths)
            foreach (var line in File.ReadLines(path).Where(line => line.Length > 0))
            {
                HistoryRecord record;
                try
                {
                    record = JsonSerializer.Deserialize<HistoryRecord>(line)!;
                }
                catch (JsonException)
                {
                    continue; // the last line of a killed process may be cut short
                }
                (record.Event == HistoryRecord.Call ? calls : returns)[record.Id] = record;
            }

        return calls.Values.Select(call =>
        {
            var ret = returns.GetValueOrDefault(call.Id);
            return new Operation(call.Id, call.Cell, Kind(call.Kind), call.Argument, call.Comparand,
                ret?.Result, call.Ticks, ret?.Ticks ?? long.MaxValue);
        }).ToList();
    }

    private static OperationKind Kind(string kind) => kind switch
    {
        OperationKinds.Read => OperationKind.Read,
        OperationKinds.Write => OperationKind.Write,
        OperationKinds.Add => OperationKind.Add,
        OperationKinds.CompareExchange => OperationKind.CompareExchange,
        OperationKinds.Exchange => OperationKind.Exchange,
        _ => throw new FormatException($"Unknown operation kind '{kind}' in a history file."),
    };
}
