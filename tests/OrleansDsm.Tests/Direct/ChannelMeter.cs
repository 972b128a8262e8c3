using System.Diagnostics.Metrics;

namespace OrleansDsm.Tests.Direct;

/// <summary>Reads the <c>dsm.direct.*</c> instruments of one client session, summed over their tags (or those of one reason).</summary>
internal sealed class ChannelMeter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly string _session;
    private Dictionary<string, long> _measured = [];
    private string? _reason;

    public ChannelMeter(Guid session)
    {
        _session = session.ToString();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "OrleansDsm.Client" && instrument.Name.StartsWith("dsm.direct.", StringComparison.Ordinal))
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    public Dictionary<string, long> Read(string? reason = null)
    {
        (_measured, _reason) = (new Dictionary<string, long>
        {
            ["dsm.direct.connected"] = 0, ["dsm.direct.connections"] = 0, ["dsm.direct.requests_served"] = 0, ["dsm.direct.connect_failures"] = 0,
        }, reason);
        _listener.RecordObservableInstruments();
        return _measured;
    }

    private void Record(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? session = null, reason = null;
        foreach (var (key, tagValue) in tags)
        {
            if (key == "dsm.session") session = tagValue as string;
            if (key == "dsm.reason") reason = tagValue as string;
        }
        if (session != _session || _reason is not null && reason != _reason) return;
        _measured[instrument.Name] += value;
    }

    public void Dispose() => _listener.Dispose();
}
