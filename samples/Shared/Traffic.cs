using System.Globalization;

namespace OrleansDsm.Samples;

/// <summary>
/// The messages a process exchanged with the cluster, from Orleans' own metrics (meter <c>Microsoft.Orleans</c>,
/// instruments <c>orleans-messaging-sent-messages-size</c> and <c>orleans-messaging-received-messages-size</c>): each
/// grain call is one message sent and its answer one received.
/// </summary>
public sealed record Traffic(long MessagesSent, long BytesSent, long BytesReceived)
{
    private const string Prefix = "traffic ";

    /// <summary>The line a worker prints last, for its coordinator to add up.</summary>
    public string ToLine() => FormattableString.Invariant($"{Prefix}{MessagesSent} {BytesSent} {BytesReceived}");

    /// <summary>The traffic a worker's output reports, or null if it printed none.</summary>
    public static Traffic? FromOutput(string output)
    {
        var line = output.Split('\n').Select(text => text.Trim()).LastOrDefault(text => text.StartsWith(Prefix, StringComparison.Ordinal));
        if (line is null) return null;
        var parts = line[Prefix.Length..].Split(' ').Select(part => long.Parse(part, CultureInfo.InvariantCulture)).ToArray();
        return new Traffic(parts[0], parts[1], parts[2]);
    }

    /// <summary>Both together.</summary>
    public static Traffic operator +(Traffic a, Traffic b) =>
        new(a.MessagesSent + b.MessagesSent, a.BytesSent + b.BytesSent, a.BytesReceived + b.BytesReceived);

    /// <inheritdoc />
    public override string ToString() =>
        FormattableString.Invariant($"{MessagesSent} messages sent, {BytesSent / 1024.0:0.#} KiB sent, {BytesReceived / 1024.0:0.#} KiB received");
}
