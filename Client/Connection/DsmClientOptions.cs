using System.Security.Cryptography.X509Certificates;

namespace OrleansDsm.Connection;

/// <summary>Where a <see cref="DsmClient"/> finds its cluster.</summary>
public sealed class DsmClientOptions
{
    /// <summary>
    /// The gateways to connect to, as <c>host:port</c>. Default: the local silo, <c>localhost:30000</c>. Ignored when
    /// <see cref="MembershipConnectionString"/> is set.
    /// </summary>
    public IList<string> Gateways { get; set; } = ["localhost:30000"];

    /// <summary>
    /// The authority that signed the silos' certificates: set it (or <see cref="TlsCertificate"/>) to connect over TLS
    /// to silos run with <c>Silo:TlsCertificate</c>. A silo is accepted only if its certificate chains to it.
    /// </summary>
    public X509Certificate2? TlsAuthority { get; set; }

    /// <summary>This client's certificate, with its private key, for silos that require one (<c>Silo:TlsMutual</c>).</summary>
    public X509Certificate2? TlsCertificate { get; set; }

    /// <summary>
    /// The cluster's admin token (the silos' <c>Dsm:AdminToken</c>), which frees any region; null for none. Frees of
    /// regions this client did not allocate send it when no owner token is given.
    /// </summary>
    public string? AdminToken { get; set; }

    /// <summary>
    /// The Npgsql connection string of the cluster's PostgreSQL database (silos with <c>Silo:Storage=PostgreSQL</c>):
    /// the client then finds the live gateways in the membership table, and follows silos as they come and go.
    /// </summary>
    public string? MembershipConnectionString { get; set; }

    /// <summary>The cluster's id; must match the silos'.</summary>
    public string ClusterId { get; set; } = "dsm";

    /// <summary>The service's id; must match the silos'.</summary>
    public string ServiceId { get; set; } = "orleans-dsm";

    /// <summary>
    /// The most memory the page cache may hold, in bytes (default 256 MiB); 0 turns caching off, so every read of a
    /// <see cref="Consistency.Strict"/> region is a grain call.
    /// </summary>
    public long CacheBytes { get; set; } = 256L << 20;

    /// <summary>
    /// How many pages ahead a sequential scan fetches into the cache: after two misses on consecutive pages of one
    /// array, the next this many pages are filled in the background. 0 turns prefetching off.
    /// </summary>
    public int PrefetchPages { get; set; } = 4;

    /// <summary>
    /// Whether cached pages keep their bytes. The pager turns it off: it caches pages only to learn which ones others
    /// have written (the bytes live in the mapping), so a mapped page is not held twice.
    /// </summary>
    internal bool CacheKeepsBytes { get; init; } = true;

    /// <summary>
    /// Whether fills over the direct channel resume their callers on the connection's receiving thread (see
    /// <see cref="Caching.PageCache.ResumeFillsOnReceivingThread"/>). The pager turns it on: a fault then waits for one
    /// thread's wake-up less.
    /// </summary>
    internal bool ResumeFillsOnReceivingThread { get; init; }

    /// <summary>
    /// The clock that measures how old a <see cref="Consistency.Bounded"/> copy is. The system clock unless a test or a
    /// simulation supplies its own.
    /// </summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>
    /// How long a page call is retried while it fails for a passing reason (a silo dying, a lost response), sending
    /// a mutation again under its original id so it is applied once; a call that timed out is always tried once more.
    /// Make it longer than the silos' failure detection.
    /// </summary>
    public TimeSpan RetryBudget { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a call waits for its response (Orleans' own default is 30 s). A call in flight to a silo that dies gets
    /// no answer and no refusal. When the client loses a gateway connection, it sends every call in flight again at
    /// once, and again each second for one response timeout after the loss, since a live gateway may still forward calls
    /// to the dead silo until the cluster declares it dead. A call lost without any such loss waits out this timeout.
    /// </summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The pause between two tries of a page call.</summary>
    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// How often the client reports its cache counters (hits, misses, evictions, revocations) to the cluster's metrics,
    /// which the dashboard and the silos' <c>/dsm/metrics</c> page show; <see cref="TimeSpan.Zero"/> reports nothing.
    /// A client without a cache has nothing to report.
    /// </summary>
    public TimeSpan MetricsInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Whether single-element gets of Uncached regions, sets and atomics without a lock fence, cache fills, and the silo's
    /// revocations of this client's cached copies go through the silo's direct channel, a path beside Orleans' messaging,
    /// when the silo offers one (README, "The direct channel"). On by default. It is TLS when the silo's is, admitted by
    /// <see cref="TlsCertificate"/> and admitting the silo by <see cref="TlsAuthority"/>; a client given either never uses
    /// a channel in the clear. The clients of one Orleans client with the same timeouts and TLS share their connections:
    /// one to the silo their gateway calls reach, and one to each silo their pages are found on.
    /// </summary>
    public bool DirectChannel { get; set; } = true;

    /// <summary>
    /// How long a direct connection to a silo other than the gateway's stays open with nothing on it (no request, no
    /// revocation): then it closes, and opens again when the client next sends that silo a page's request (the
    /// requests go as calls meanwhile, passed on by the gateway's silo). A client that touched pages on many silos
    /// once holds no connection to each for its life. Clients share a connection only with the same timeout.
    /// </summary>
    public TimeSpan DirectIdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long a direct connection may carry nothing before the client asks whether its silo is still there (TCP
    /// keepalive); three unanswered asks, a sixth of this apart, close it, so a connection to a silo whose machine died
    /// or was cut off does not wait for good. The silo asks the same of its clients (<c>Dsm:DirectKeepAlive</c>).
    /// Default one minute; zero turns the asking off. Clients share a connection only with the same value.
    /// </summary>
    public TimeSpan DirectKeepAlive { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long connecting may take before the cluster is reported unreachable.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often a client of <see cref="MembershipConnectionString"/> reads the live gateways again. A gateway the
    /// cluster has declared dead is dropped then, with its connection, which matters when it was cut off rather than
    /// stopped: its connection never fails by itself. Orleans' own default is one minute.
    /// </summary>
    public TimeSpan GatewayRefreshInterval { get; set; } = TimeSpan.FromSeconds(5);
}
