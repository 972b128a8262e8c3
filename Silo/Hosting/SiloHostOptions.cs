namespace OrleansDsm.Silo.Hosting;

/// <summary>How the silo process is hosted: cluster identity, ports and storage. Bound from the <c>Silo</c> section.</summary>
public sealed class SiloHostOptions
{
    /// <summary>The cluster's id; silos and clients of one cluster share it.</summary>
    public string ClusterId { get; set; } = "dsm";

    /// <summary>The service's id; stays the same across deployments so stored state is found again.</summary>
    public string ServiceId { get; set; } = "orleans-dsm";

    /// <summary>The port silos talk to each other on.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>The port clients connect to.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>The HTTP port of the dashboard, bound to localhost.</summary>
    public int HttpPort { get; set; } = 8080;

    /// <summary>Whether to serve the Orleans dashboard (it profiles every grain call, so benchmarks turn it off).</summary>
    public bool Dashboard { get; set; } = true;

    /// <summary>Where pages and regions are stored. Only <c>Memory</c> exists so far.</summary>
    public string Storage { get; set; } = "Memory";

    /// <summary>Every problem with these options, each naming its setting; empty when they are usable.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(ClusterId)) problems.Add("Silo:ClusterId must not be empty.");
        if (string.IsNullOrWhiteSpace(ServiceId)) problems.Add("Silo:ServiceId must not be empty.");
        foreach (var (name, port) in new[] { ("SiloPort", SiloPort), ("GatewayPort", GatewayPort), ("HttpPort", HttpPort) })
            if (port is < 1 or > 65535) problems.Add($"Silo:{name} must be a TCP port from 1 to 65535; it is {port}.");
        if (SiloPort == GatewayPort) problems.Add($"Silo:SiloPort and Silo:GatewayPort must differ; both are {SiloPort}.");
        if (!string.Equals(Storage, "Memory", StringComparison.OrdinalIgnoreCase))
            problems.Add($"Silo:Storage '{Storage}' is not known; the storage available is 'Memory'.");
        return problems;
    }
}
