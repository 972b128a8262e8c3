using System.Diagnostics.Metrics;

namespace OrleansDsm.Bench.Harness;

/// <summary>Reads the client caches' published counters (meter <c>OrleansDsm.Client</c>), summed over every session in this process.</summary>
public static class CacheCounters
{
    public static IReadOnlyDictionary<string, long> Read()
    {
        var totals = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "OrleansDsm.Client") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            totals[instrument.Name] = totals.GetValueOrDefault(instrument.Name) + value);
        listener.Start();
        listener.RecordObservableInstruments();
        return totals;
    }
}
