using System.Diagnostics.Metrics;

namespace OrleansDsm.Samples;

/// <summary>Counts this process's Orleans messages from the moment it is created.</summary>
public sealed class TrafficMeter : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _sent;
    private long _bytesSent;
    private long _bytesReceived;

    /// <summary>Starts counting.</summary>
    public TrafficMeter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Microsoft.Orleans"
                && instrument.Name is "orleans-messaging-sent-messages-size" or "orleans-messaging-received-messages-size")
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<int>((instrument, size, _, _) => Count(instrument.Name, size));
        _listener.SetMeasurementEventCallback<long>((instrument, size, _, _) => Count(instrument.Name, size));
        _listener.Start();
    }

    /// <summary>What was counted so far.</summary>
    public Traffic Counted => new(Interlocked.Read(ref _sent), Interlocked.Read(ref _bytesSent), Interlocked.Read(ref _bytesReceived));

    private void Count(string instrument, long size)
    {
        if (instrument == "orleans-messaging-sent-messages-size")
        {
            Interlocked.Increment(ref _sent);
            Interlocked.Add(ref _bytesSent, size);
        }
        else Interlocked.Add(ref _bytesReceived, size);
    }

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();
}
