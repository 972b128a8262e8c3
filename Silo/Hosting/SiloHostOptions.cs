using OrleansDsm.Addressing;

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

    /// <summary>The HTTP port of the dashboard and the health endpoint.</summary>
    public int HttpPort { get; set; } = 8080;

    /// <summary>
    /// The address the dashboard and the health endpoint listen on: <c>localhost</c> by default, an IP address of this
    /// host, or <c>0.0.0.0</c> for all. A dashboard reachable from other machines needs a password.
    /// </summary>
    public string HttpAddress { get; set; } = "localhost";

    /// <summary>Whether to serve the Orleans dashboard (it profiles every grain call, so benchmarks turn it off).</summary>
    public bool Dashboard { get; set; } = true;

    /// <summary>The user name the dashboard asks for when it has a password.</summary>
    public string DashboardUser { get; set; } = "admin";

    /// <summary>
    /// The dashboard's password (HTTP Basic): from the environment (<c>Silo__DashboardPassword</c>) or a configuration
    /// file, not the command line. Required when <see cref="HttpAddress"/> reaches beyond this machine.
    /// </summary>
    public string? DashboardPassword { get; set; }

    /// <summary>A file holding the dashboard's password, instead of <see cref="DashboardPassword"/>.</summary>
    public string? DashboardPasswordFile { get; set; }

    /// <summary>The dashboard's password, from <see cref="DashboardPassword"/> or its file; null when it has none.</summary>
    public string? ReadDashboardPassword() =>
        DashboardPassword ?? (DashboardPasswordFile is { } file ? File.ReadAllText(file).TrimEnd('\r', '\n') : null);

    /// <summary>Whether <see cref="HttpAddress"/> is reachable only from this machine.</summary>
    public bool IsHttpLocal => HttpAddress is "localhost" or "127.0.0.1" or "::1";

    /// <summary>
    /// Where pages, regions and cluster membership live: <c>Memory</c> (one silo on this machine, nothing survives it)
    /// or <c>PostgreSQL</c> (durable, any number of silos on any hosts; needs <see cref="ConnectionString"/>).
    /// </summary>
    public string Storage { get; set; } = "Memory";

    /// <summary>The Npgsql connection string of the PostgreSQL database, for <c>Storage=PostgreSQL</c>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Whether the silo applies missing schema migrations at start; otherwise it refuses an outdated schema.</summary>
    public bool ApplySchema { get; set; } = true;

    /// <summary>The address other silos and clients reach this silo at, for <c>Storage=PostgreSQL</c>.</summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>
    /// The address the silo and gateway ports listen on, for <c>Storage=PostgreSQL</c>: <c>0.0.0.0</c> (all of this
    /// host's addresses, the default) or one of them, such as a private network's.
    /// </summary>
    public string ListenAddress { get; set; } = "0.0.0.0";

    /// <summary>
    /// How pages are stored with <c>Storage=PostgreSQL</c>: <c>Batched</c> (the default: the dsm_pages table, the writes
    /// of many pages in one round trip and one commit) or <c>AdoNet</c> (Orleans' ADO.NET provider, one commit per write).
    /// </summary>
    public string PageStore { get; set; } = "Batched";

    /// <summary>Whether pages go to the batched page store.</summary>
    public bool IsBatchedPageStore => string.Equals(PageStore, "Batched", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Orleans' grain directory: <c>StronglyConsistent</c> (Orleans 10's distributed directory with versioned range
    /// locks, which it marks experimental; live silos never run two activations of a page) or <c>Default</c> (eventually
    /// consistent; after a silo failure two activations of a page may briefly coexist: storage ETags stop the stale
    /// one's writes but not its reads).
    /// </summary>
    public string Directory { get; set; } = "StronglyConsistent";

    /// <summary>Whether the strongly consistent directory is chosen.</summary>
    public bool IsStronglyConsistentDirectory => string.Equals(Directory, "StronglyConsistent", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Whether Orleans' activation rebalancer (experimental in Orleans 10) moves activations (pages, above all)
    /// between silos until each holds about as many: a silo added to a busy cluster then takes over part of the pages
    /// already active, not only new ones. Off by default. It needs <c>Storage=PostgreSQL</c> (a memory-storage silo is
    /// alone); its timing is tuned in the <c>Silo:Rebalancing</c> section, as Orleans names it
    /// (<c>RebalancerDueTime</c>, <c>SessionCyclePeriod</c>, ...).
    /// </summary>
    public bool Rebalance { get; set; }

    /// <summary>
    /// The silo's TLS certificate with its private key (a PKCS#12 file); null (the default) for no TLS. With it, every
    /// connection to and between silos is encrypted, and the silo presents this certificate.
    /// </summary>
    public string? TlsCertificate { get; set; }

    /// <summary>A file holding the password of <see cref="TlsCertificate"/>, if it has one: a file, so the password is never on a command line.</summary>
    public string? TlsCertificatePasswordFile { get; set; }

    /// <summary>
    /// The certificate (PEM or DER) of the authority that signs the cluster's certificates. Peers' certificates must
    /// chain to it; without it, they must chain to a root this machine trusts.
    /// </summary>
    public string? TlsAuthority { get; set; }

    /// <summary>Mutual TLS: clients and silos must present a certificate that <see cref="TlsAuthority"/> signed.</summary>
    public bool TlsMutual { get; set; }

    /// <summary>
    /// The largest message body, in bytes, the silo accepts from a client or another silo. A connection that sends a
    /// larger one is closed before the body is read, so hostile input cannot make the silo allocate without bound.
    /// The DSM's own calls carry at most 16 pages (16 MiB at the largest page size), well under the default.
    /// </summary>
    public int MaxMessageBytes { get; set; } = 32 << 20;

    /// <summary>The smallest <see cref="MaxMessageBytes"/> that fits the DSM's largest call: 16 pages of the largest size, and headroom.</summary>
    public const int MinMaxMessageBytes = 16 * PageGeometry.MaxPageSize + (1 << 20);

    /// <summary>Whether <see cref="Storage"/> is PostgreSQL.</summary>
    public bool IsPostgreSql => string.Equals(Storage, "PostgreSQL", StringComparison.OrdinalIgnoreCase);

    /// <summary>Every problem with these options, each naming its setting; empty when they are usable.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(ClusterId)) problems.Add("Silo:ClusterId must not be empty.");
        if (string.IsNullOrWhiteSpace(ServiceId)) problems.Add("Silo:ServiceId must not be empty.");
        foreach (var (name, port) in new[] { ("SiloPort", SiloPort), ("GatewayPort", GatewayPort), ("HttpPort", HttpPort) })
            if (port is < 1 or > 65535) problems.Add($"Silo:{name} must be a TCP port from 1 to 65535; it is {port}.");
        if (SiloPort == GatewayPort) problems.Add($"Silo:SiloPort and Silo:GatewayPort must differ; both are {SiloPort}.");
        if (!IsPostgreSql && !string.Equals(Storage, "Memory", StringComparison.OrdinalIgnoreCase))
            problems.Add($"Silo:Storage '{Storage}' is not known; it is 'Memory' or 'PostgreSQL'.");
        if (IsPostgreSql && string.IsNullOrWhiteSpace(ConnectionString))
            problems.Add("Silo:ConnectionString must name the PostgreSQL database when Silo:Storage is PostgreSQL.");
        if (!IsBatchedPageStore && !string.Equals(PageStore, "AdoNet", StringComparison.OrdinalIgnoreCase))
            problems.Add($"Silo:PageStore '{PageStore}' is not known; it is 'Batched' or 'AdoNet'.");
        if (!IsStronglyConsistentDirectory && !string.Equals(Directory, "Default", StringComparison.OrdinalIgnoreCase))
            problems.Add($"Silo:Directory '{Directory}' is not known; it is 'Default' or 'StronglyConsistent'.");
        if (Rebalance && !IsPostgreSql)
            problems.Add("Silo:Rebalance moves pages between silos, and a memory-storage silo is alone: it needs Silo:Storage=PostgreSQL.");
        if (IsPostgreSql)
        {
            if (!System.Net.IPAddress.TryParse(AdvertisedAddress, out var advertised))
                problems.Add($"Silo:AdvertisedAddress must be an IP address; it is '{AdvertisedAddress}'.");
            // "Any" is where to listen, not an address a peer can reach: other silos and clients would be sent nowhere.
            else if (advertised.Equals(System.Net.IPAddress.Any) || advertised.Equals(System.Net.IPAddress.IPv6Any))
                problems.Add($"Silo:AdvertisedAddress must be this machine's address as other silos and clients reach it, not {AdvertisedAddress}; Silo:ListenAddress is where 0.0.0.0 belongs.");
        }
        if (IsPostgreSql && !System.Net.IPAddress.TryParse(ListenAddress, out _))
            problems.Add($"Silo:ListenAddress must be an IP address (0.0.0.0 for all); it is '{ListenAddress}'.");
        var httpAddressValid = string.Equals(HttpAddress, "localhost", StringComparison.OrdinalIgnoreCase) || System.Net.IPAddress.TryParse(HttpAddress, out _);
        if (!httpAddressValid)
            problems.Add($"Silo:HttpAddress must be 'localhost' or an IP address (0.0.0.0 for all); it is '{HttpAddress}'.");
        if (DashboardPasswordFile is not null && !File.Exists(DashboardPasswordFile))
            problems.Add($"Silo:DashboardPasswordFile names a file that does not exist: '{DashboardPasswordFile}'.");
        // Only for an address that is one: a typo is reported once, not again as an exposed dashboard.
        else if (httpAddressValid && Dashboard && !IsHttpLocal && DashboardPassword is null && DashboardPasswordFile is null)
            problems.Add($"Silo:HttpAddress {HttpAddress} exposes the dashboard beyond this machine, and it has no password: set Silo__DashboardPassword in the environment or Silo:DashboardPasswordFile, or Silo:Dashboard=false.");
        if (TlsCertificate is null && (TlsAuthority is not null || TlsMutual || TlsCertificatePasswordFile is not null))
            problems.Add("Silo:TlsAuthority, Silo:TlsMutual and Silo:TlsCertificatePasswordFile need Silo:TlsCertificate, the silo's own certificate.");
        if (TlsMutual && TlsAuthority is null)
            problems.Add("Silo:TlsMutual needs Silo:TlsAuthority: the authority whose certificates are admitted.");
        foreach (var (name, path) in new[] { ("TlsCertificate", TlsCertificate), ("TlsCertificatePasswordFile", TlsCertificatePasswordFile), ("TlsAuthority", TlsAuthority) })
            if (path is not null && !File.Exists(path)) problems.Add($"Silo:{name} names a file that does not exist: '{path}'.");
        if (MaxMessageBytes < MinMaxMessageBytes)
            problems.Add($"Silo:MaxMessageBytes must be at least {MinMaxMessageBytes} (16 pages of {PageGeometry.MaxPageSize} bytes and headroom); it is {MaxMessageBytes}.");
        return problems;
    }
}
