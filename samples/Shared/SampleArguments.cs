using System.Globalization;
using OrleansDsm.Connection;
using OrleansDsm.Regions;

namespace OrleansDsm.Samples;

/// <summary>
/// A sample's command line: <c>--name value</c> pairs. Every sample takes <c>--gateway host:port</c> (default
/// localhost:30000; <c>--cluster</c> and <c>--service</c> name the cluster when it is not the silo's default),
/// <c>--workers N</c> and <c>--mode strict|release|mapped</c>; a worker process also gets <c>--worker I</c>
/// and <c>--run ID</c> from its coordinator.
/// </summary>
public sealed class SampleArguments
{
    private readonly Dictionary<string, string> _values = [];

    /// <summary>Reads <paramref name="args"/>; a bad one stops the sample with one clear line.</summary>
    /// <exception cref="ArgumentException">An argument is not a <c>--name value</c> pair.</exception>
    public SampleArguments(IReadOnlyList<string> args)
    {
        for (var i = 0; i < args.Count; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 == args.Count)
                throw new ArgumentException($"expected --name value pairs, got '{string.Join(' ', args.Skip(i))}'");
            _values[args[i][2..]] = args[i + 1];
        }
        Raw = args;
        Run = _values.GetValueOrDefault("run") ?? Guid.NewGuid().ToString("N")[..12];
    }

    /// <summary>The arguments as given, which workers are started with too.</summary>
    public IReadOnlyList<string> Raw { get; }

    /// <summary>This process's worker number, or null for the coordinator.</summary>
    public int? Worker => _values.ContainsKey("worker") ? Int("worker", 0, 0, 1_000) : null;

    /// <summary>The run's id, naming its regions, locks and barriers so runs never meet.</summary>
    public string Run { get; }

    /// <summary>How many worker processes share the work.</summary>
    public int Workers => Int("workers", 2, 1, 64);

    /// <summary>The consistency of the regions the workers write; a mapped run's regions are Release regions.</summary>
    public Consistency Mode => Text("mode", "release") switch
    {
        "release" or "mapped" => Consistency.Release,
        "strict" => Consistency.Strict,
        var other => throw new ArgumentException($"--mode is strict, release or mapped, not '{other}'"),
    };

    /// <summary>Whether workers map the regions into memory (<c>--mode mapped</c>), for samples that can.</summary>
    public bool Mapped => Mode == Consistency.Release && Text("mode", "release") == "mapped";

    /// <summary>Refuses <c>--mode mapped</c> in a sample whose workers do not map their regions.</summary>
    /// <exception cref="ArgumentException">The mode is mapped.</exception>
    public void RequireUnmapped()
    {
        if (Mapped) throw new ArgumentException("--mode mapped is Jacobi's; this sample runs strict or release");
    }

    /// <summary>The client options for the gateway, cluster id and service id given (by default the silo's defaults).</summary>
    public DsmClientOptions Client => new()
    {
        Gateways = Text("gateway", "localhost:30000").Split(','),
        ClusterId = Text("cluster", "dsm"),
        ServiceId = Text("service", "orleans-dsm"),
    };

    /// <summary>The text of <c>--name</c>, or <paramref name="fallback"/>.</summary>
    public string Text(string name, string fallback) => _values.GetValueOrDefault(name) ?? fallback;

    /// <summary>The integer of <c>--name</c>, or <paramref name="fallback"/>.</summary>
    /// <exception cref="ArgumentException">It is not an integer in [<paramref name="min"/>, <paramref name="max"/>].</exception>
    public int Int(string name, int fallback, int min, int max)
    {
        if (!_values.TryGetValue(name, out var text)) return fallback;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new ArgumentException($"--{name} is an integer from {min} to {max}, not '{text}'");
    }
}
