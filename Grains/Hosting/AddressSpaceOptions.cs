using OrleansDsm.Addressing;

namespace OrleansDsm.Grains.Hosting;

/// <summary>
/// How a silo serves the address space. Bound from the <c>Dsm</c> configuration section by the silo host.
/// </summary>
public sealed class AddressSpaceOptions
{
    /// <summary>Bytes per page. Must equal the page size recorded with the cluster, or the silo refuses to start.</summary>
    public int PageSize { get; set; } = PageGeometry.DefaultPageSize;

    /// <summary>The most address space all regions together may reserve, in bytes. Default 1 PiB.</summary>
    public long QuotaBytes { get; set; } = 1L << 50;

    /// <summary>
    /// How long a silo may trust that a region is still allocated without asking again. Freeing a region waits this
    /// long (plus a small margin) so that no silo still serves a handle to it.
    /// </summary>
    public TimeSpan RegionLease { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a client's cached pages stay valid without renewal. A writer waits at most this long for a cache
    /// holder that does not answer (a dead or cut-off client).
    /// </summary>
    public TimeSpan CacheLease { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long one renewal of a silo's serving lease lets it serve pages, where a membership table decides who is a
    /// member (PostgreSQL mode). A silo renews four times per lease; one that cannot stops serving within this time,
    /// and pages that moved after a silo died wait this long after the death is known. Default 1 s.
    /// </summary>
    public TimeSpan ServingLease { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A token that frees any region, for operators; null (the default) for none, so only each region's owner token
    /// frees it. Give it through the environment (<c>Dsm__AdminToken</c>) or a configuration file, not on a command
    /// line, where other users of the machine can read it. At least 16 characters.
    /// </summary>
    public string? AdminToken { get; set; }

    /// <summary>
    /// Zero (the default) for write-through: a write is acknowledged once stored. Otherwise write-behind: a write is
    /// acknowledged once applied and visible (older cached copies revoked), and pages store what they were given
    /// within this interval. A crash then loses acknowledged writes not yet stored; see the README for the window.
    /// </summary>
    public TimeSpan WriteBehind { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// For checking the checker only: pages skip revoking cached copies before a write, which breaks coherence on
    /// purpose. Never set it on a real cluster.
    /// </summary>
    public bool SkipInvalidationForCheckerTests { get; set; }

    /// <summary>
    /// Where a page that is not active anywhere activates: <c>Balanced</c> (the default) where Orleans' default placement
    /// puts it, which weighs the silos' load; <c>FirstTouch</c> on the silo its call comes from (for a client's call, the
    /// gateway silo it reaches), so that silo-hosted workers that touch their own pages first find them local.
    /// </summary>
    public string PagePlacement { get; set; } = "Balanced";

    /// <summary>Whether <see cref="PagePlacement"/> is <c>FirstTouch</c>.</summary>
    internal bool FirstTouchPlacement => string.Equals(PagePlacement, "FirstTouch", StringComparison.OrdinalIgnoreCase);

    /// <summary>How long an idle page stays activated before Orleans collects it.</summary>
    public TimeSpan PageIdleTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Above this share of the memory the GC may use, Orleans deactivates idle activations (pages first store what
    /// they hold) until use is 10 points lower. See <see cref="MemoryRefusalPercent"/> for what happens if that is not enough.
    /// </summary>
    public double MemorySheddingPercent { get; set; } = 80;

    /// <summary>
    /// Above this share of the memory the GC may use, pages refuse writes that would make the silo keep a page it does
    /// not yet keep, with <see cref="Errors.MemoryPressureException"/>; reads, writes to kept pages and frees go on.
    /// </summary>
    public double MemoryRefusalPercent { get; set; } = 90;

    /// <summary>
    /// The port of the silo's direct channel, a path beside Orleans' messaging for single-element gets of Uncached
    /// regions, sets and atomics without a lock fence, and their revocations (README, "The direct channel"): 0 (the
    /// default) for any free port, which clients learn from the silo; -1 to turn it off. It listens on the gateway's address. On a
    /// silo with TLS it takes only TLS connections, with the certificates and rules of the silo's Orleans connections.
    /// </summary>
    public int DirectPort { get; set; }

    /// <summary>
    /// How long a direct connection may carry nothing before the silo's TCP stack asks the client whether it is still
    /// there (TCP keepalive); three unanswered asks, a sixth of this apart (at least a second), close the connection. A
    /// client whose machine died or was cut off says nothing, and a silo that never writes to it would otherwise keep its
    /// connection for good. Default one minute; zero turns the asking off.
    /// </summary>
    public TimeSpan DirectKeepAlive { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the silo reports its counters to the cluster's metrics (the dashboard's MetricsGrain and <c>/dsm/metrics</c>).</summary>
    public TimeSpan MetricsInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The page geometry these options describe.</summary>
    public PageGeometry Geometry => new(PageSize);

    /// <summary>Every problem with these options, each naming its setting; empty when they are usable.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (PageGeometry.Describe(PageSize) is { } pageProblem)
            problems.Add($"Dsm:PageSize: {pageProblem}");
        if (QuotaBytes <= 0)
            problems.Add($"Dsm:QuotaBytes must be positive; it is {QuotaBytes}.");
        if (RegionLease <= TimeSpan.Zero || RegionLease > TimeSpan.FromMinutes(5))
            problems.Add($"Dsm:RegionLease must be between 0 and 5 minutes; it is {RegionLease}.");
        if (CacheLease < TimeSpan.FromMilliseconds(50) || CacheLease > TimeSpan.FromMinutes(5))
            problems.Add($"Dsm:CacheLease must be between 50 ms and 5 minutes; it is {CacheLease}.");
        if (ServingLease < TimeSpan.FromMilliseconds(200) || ServingLease > TimeSpan.FromMinutes(5))
            problems.Add($"Dsm:ServingLease must be between 200 ms and 5 minutes; it is {ServingLease}.");
        if (WriteBehind < TimeSpan.Zero || WriteBehind > TimeSpan.FromMinutes(1))
            problems.Add($"Dsm:WriteBehind must be zero (write-through) or at most one minute; it is {WriteBehind}.");
        if (!FirstTouchPlacement && !string.Equals(PagePlacement, "Balanced", StringComparison.OrdinalIgnoreCase))
            problems.Add($"Dsm:PagePlacement '{PagePlacement}' is not known; it is 'Balanced' or 'FirstTouch'.");
        if (PageIdleTimeout < TimeSpan.FromSeconds(1))
            problems.Add($"Dsm:PageIdleTimeout must be at least one second; it is {PageIdleTimeout}.");
        if (MemorySheddingPercent is < 20 or > 100)
            problems.Add($"Dsm:MemorySheddingPercent must be from 20 to 100; it is {MemorySheddingPercent}.");
        if (MemoryRefusalPercent is < 20 or > 100)
            problems.Add($"Dsm:MemoryRefusalPercent must be from 20 to 100; it is {MemoryRefusalPercent}.");
        else if (MemoryRefusalPercent < MemorySheddingPercent && MemorySheddingPercent <= 100)
            problems.Add($"Dsm:MemoryRefusalPercent ({MemoryRefusalPercent}) is below Dsm:MemorySheddingPercent ({MemorySheddingPercent}): " +
                "pages would refuse new pages' writes before idle pages are shed to make room; make it at least as high.");
        if (MetricsInterval < TimeSpan.FromMilliseconds(100) || MetricsInterval > TimeSpan.FromMinutes(10))
            problems.Add($"Dsm:MetricsInterval must be between 100 ms and 10 minutes; it is {MetricsInterval}.");
        if (DirectPort is < -1 or > 65535)
            problems.Add($"Dsm:DirectPort must be -1 (off), 0 (any free port) or a port up to 65535; it is {DirectPort}.");
        if (DirectKeepAlive != TimeSpan.Zero && (DirectKeepAlive < TimeSpan.FromSeconds(1) || DirectKeepAlive > TimeSpan.FromHours(2)))
            problems.Add($"Dsm:DirectKeepAlive must be zero (off) or from 1 s to 2 hours; it is {DirectKeepAlive}.");
        if (AdminToken is { } admin && (admin.Length < 16 || admin.Any(char.IsWhiteSpace)))
            problems.Add("Dsm:AdminToken must be at least 16 characters without spaces (its value is not shown here).");
        return problems;
    }
}
