using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using OrleansDsm.Arrays;
using OrleansDsm.Backups;
using OrleansDsm.Buffering;
using OrleansDsm.Caching;
using OrleansDsm.Connection;
using OrleansDsm.Hosting;

namespace OrleansDsm;

/// <summary>
/// A connection to the shared memory: allocates, opens and frees regions, and reads and writes raw bytes by address.
/// Thread-safe. Every method that waits on the network takes a <see cref="CancellationToken"/>; a cancelled write may
/// or may not have been applied.
/// </summary>
public sealed class DsmClient : IAsyncDisposable
{
    private readonly IHost? _ownedHost;
    private readonly IGrainFactory _grains;
    // Null when there is no cache or reports are off.
    private readonly Metrics.MetricsReporter? _metrics;
    // The pager of this client's mappings; null for a hosted Orleans client, whose connection a pager cannot repeat.
    private readonly Mapping.Mapper? _mapper;
    private readonly Direct.DirectChannel? _direct;
    private readonly PageReferences _pages;
    private readonly RequestIds _requests;
    private readonly TransientRetry _retry;
    private readonly ReleaseBuffer _buffer;
    private volatile RegionDescriptor[] _knownRegions = [];
    // The owner tokens of the regions this client allocated, by name, so it frees them without being told.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _ownerTokens = new(StringComparer.Ordinal);
    private readonly string? _adminToken;
    // How long one free call waits for the region's release: half the Orleans client's response timeout, so it answers in time.
    private readonly TimeSpan _releaseWait;
    private int _disposed;

    /// <summary>Uses an Orleans client that the application already hosts (see <c>AddDsmClient</c>), with a default page cache.</summary>
    public DsmClient(IClusterClient client) : this(client, new DsmClientOptions(), null) { }

    /// <summary>Uses an Orleans client that the application already hosts, with the cache settings of <paramref name="options"/>.</summary>
    public DsmClient(IClusterClient client, DsmClientOptions options) : this(client, options, null) { }

    private DsmClient(IClusterClient client, DsmClientOptions options, IHost? ownedHost)
    {
        CheckOptions(options);
        _grains = client;
        _pages = new PageReferences(client);
        Cache = options.CacheBytes > 0 ? new PageCache(client, _pages, options.CacheBytes, options.Clock, options.PrefetchPages, options.CacheKeepsBytes)
        {
            ResumeFillsOnReceivingThread = options.ResumeFillsOnReceivingThread,
        } : null;
        _requests = new RequestIds(Cache?.Session ?? Guid.NewGuid());
        GatewayLoss = client.ServiceProvider.GetService<GatewayLossSignal>();
        _retry = new TransientRetry(options.RetryBudget, options.RetryInterval, GatewayLoss);
        _buffer = new ReleaseBuffer(_pages, Cache, _retry, new ReleaseMetrics(_requests.Session));
        _adminToken = options.AdminToken;
        var responseTimeout = client.ServiceProvider.GetService<IOptions<ClientMessagingOptions>>()?.Value.ResponseTimeout ?? options.ResponseTimeout;
        _releaseWait = TimeSpan.FromTicks(Math.Min(responseTimeout.Ticks / 2, TimeSpan.FromMinutes(1).Ticks));
        _ownedHost = ownedHost;
        _mapper = ownedHost is null ? null : new Mapping.Mapper(options);
        if (options.DirectChannel)
        {
            // The channel is TLS when the silo's is, by the rules the client's gateway connections follow.
            var tls = options.TlsAuthority is null && options.TlsCertificate is null ? null : OrleansDsm.Direct.DirectTls.ForClient(options.TlsCertificate, options.TlsAuthority);
            _direct = new Direct.DirectChannel(client, _requests.Session, new(options.ConnectTimeout, responseTimeout, options.DirectIdleTimeout, options.DirectKeepAlive),
                Cache is null ? null : Cache.ApplyRevocations, tls);
            if (Cache is not null) Cache.Direct = _direct;
            _direct.Seek();
        }
        if (Cache is not null && options.MetricsInterval > TimeSpan.Zero) _metrics = new Metrics.MetricsReporter(client, Cache, options.MetricsInterval);
    }

    /// <summary>The Orleans client's grain factory, for the pager's page calls.</summary>
    internal IGrainFactory Grains => _grains;

    /// <summary>
    /// Reports the loss of a gateway connection, so calls in flight through it are sent again at once; null when the
    /// Orleans client was built without it (neither <see cref="ConnectAsync"/> nor <c>AddDsmClient</c>).
    /// </summary>
    internal GatewayLossSignal? GatewayLoss { get; }

    /// <summary>The client's direct channel, or null when it is off (<see cref="DsmClientOptions.DirectChannel"/>, or TLS).</summary>
    internal Direct.DirectChannel? Direct => _direct;

    /// <summary>The page cache shared by this client's arrays, or null when caching is off.</summary>
    internal PageCache? Cache { get; }

    /// <summary>
    /// This client's cache session, or null when caching is off. Its metrics on the <c>OrleansDsm.Client</c> meter
    /// (hits, misses, evictions, revocations received, lease renewals, pages and bytes held) carry it as the
    /// <c>dsm.session</c> tag.
    /// </summary>
    public Guid? CacheSession => Cache?.Session;

    private IRegionDirectoryGrain Directory => _grains.GetGrain<IRegionDirectoryGrain>(0);

    /// <summary>
    /// The named lock <paramref name="name"/>, shared by every process of the cluster, held by this client for
    /// <paramref name="lease"/> (default 5 s) at a time between renewals. See <see cref="Locks.SharedLock"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The name is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The lease is under 100 ms or over 10 minutes.</exception>
    public Locks.SharedLock Lock(string name, TimeSpan? lease = null) =>
        new(_grains, _buffer, _requests.Session, _retry, name, lease ?? TimeSpan.FromSeconds(5));

    /// <summary>
    /// One party of the named barrier <paramref name="name"/> of <paramref name="parties"/> parties: each process (or
    /// task) taking part creates its own. See <see cref="Barriers.SharedBarrier"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The name is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">There are fewer than 1 or more than 100,000 parties.</exception>
    public Barriers.SharedBarrier Barrier(string name, int parties) => new(_grains, _buffer, _retry, name, parties);

    /// <summary>
    /// A release point for <see cref="Consistency.Release"/> regions: sends this client's unreleased writes, one call
    /// per dirty page, all pages at once, and returns once every page has stored its part. Writes that could not be sent
    /// stay buffered for the next release, and the first error is thrown; writes to a freed region, or under a lock hold
    /// that has ended, are dropped (they can never apply) after <see cref="RegionFreedException"/> or
    /// <see cref="LockLostException"/>.
    /// </summary>
    public Task ReleaseAsync(CancellationToken cancellation = default) => _buffer.ReleaseAsync(cancellation);

    /// <summary>Connects to the cluster named by <paramref name="options"/>, by default the silo on this machine.</summary>
    /// <exception cref="ArgumentException">A gateway is not of the form host:port, or an option is out of its range.</exception>
    /// <exception cref="ClusterUnreachableException">
    /// A gateway's host name does not resolve, or no gateway answered within <see cref="DsmClientOptions.ConnectTimeout"/>;
    /// then the message says, for each gateway, whether nothing listens there, nothing answers, or something other than
    /// this cluster's gateway accepts connections.
    /// </exception>
    public static async Task<DsmClient> ConnectAsync(DsmClientOptions? options = null, CancellationToken cancellation = default)
    {
        options ??= new DsmClientOptions();
        CheckOptions(options);
        var membership = options.MembershipConnectionString;
        var gateways = membership is null ? GatewayEndpoints.Resolve(options.Gateways) : [];
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client =>
        {
            if (membership is null) client.UseStaticClustering(gateways);
            else client.UseAdoNetClustering(clustering => (clustering.Invariant, clustering.ConnectionString) = ("Npgsql", membership));
            client.Configure<ClusterOptions>(cluster =>
            {
                cluster.ClusterId = options.ClusterId;
                cluster.ServiceId = options.ServiceId;
            });
            client.Configure<ClientMessagingOptions>(messaging => messaging.ResponseTimeout = options.ResponseTimeout);
            client.Configure<GatewayOptions>(gateway => gateway.GatewayListRefreshPeriod = options.GatewayRefreshInterval);
            client.UseLowLatencySockets();
            GatewayLossSignal.Register(client.Services);
            if (options.TlsAuthority is not null || options.TlsCertificate is not null) UseTls(client, options);
        });
        var host = builder.Build();
        try
        {
            // The Orleans client keeps retrying a gateway that refuses connections, so the wait is bounded here.
            await host.StartAsync(cancellation).WaitAsync(options.ConnectTimeout, cancellation);
        }
        catch (Exception error) when (!cancellation.IsCancellationRequested)
        {
            host.Dispose();
            var reason = error is TimeoutException ? $"no gateway answered within {options.ConnectTimeout.TotalSeconds:0.#} s" : error.GetBaseException().Message;
            if (error is TimeoutException && membership is null) reason += $" ({await GatewayProbe.DescribeAsync(gateways, options.ClusterId)})";
            var where = membership is null ? string.Join(", ", options.Gateways) : "the gateways listed in its PostgreSQL membership table";
            throw new ClusterUnreachableException(where, reason, error);
        }
        return new DsmClient(host.Services.GetRequiredService<IClusterClient>(), options, host);
    }

    /// <summary>Allocates a new region of <paramref name="length"/> elements of <typeparamref name="T"/>, all zero.</summary>
    /// <param name="name">A unique name (letters, digits, '.', '_', '-'; at most 128).</param>
    /// <param name="length">How many elements; at least one.</param>
    /// <param name="consistency">The region's memory model; <see cref="Consistency.Strict"/> when null.</param>
    /// <param name="cancellation">Cancels the wait.</param>
    /// <exception cref="ArgumentException">The name is invalid, or sizeof(T) does not divide the page size.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The length is not positive or too large.</exception>
    /// <exception cref="RegionExistsException">The name is taken.</exception>
    /// <exception cref="QuotaExceededException">The cluster's quota would be exceeded.</exception>
    public async Task<SharedArray<T>> AllocateAsync<T>(string name, long length, Consistency? consistency = null, CancellationToken cancellation = default)
        where T : unmanaged
    {
        var allocation = Owned(await Directory.Allocate(Request<T>(name, length, consistency)).WaitAsync(cancellation));
        return Remember(new SharedArray<T>(_pages, Cache, _buffer, _requests, _retry, allocation.Region) { OwnerToken = allocation.OwnerToken, Mapper = _mapper, Direct = _direct });
    }

    /// <summary>Opens the existing region <paramref name="name"/> as an array of <typeparamref name="T"/>.</summary>
    /// <exception cref="RegionNotFoundException">There is no region of that name.</exception>
    /// <exception cref="RegionMismatchException">The region holds another element type; the message names both.</exception>
    public async Task<SharedArray<T>> OpenAsync<T>(string name, CancellationToken cancellation = default) where T : unmanaged
    {
        RegionNames.Validate(name);
        var region = await Directory.Open(name).WaitAsync(cancellation);
        if (region.ElementType != ElementCodec<T>.TypeName || region.ElementSize != ElementCodec<T>.Size)
            throw new RegionMismatchException(
                $"Region '{name}' holds {region.ElementType} ({region.ElementSize} bytes), not {ElementCodec<T>.TypeName} ({ElementCodec<T>.Size} bytes).");
        return Remember(new SharedArray<T>(_pages, Cache, _buffer, _requests, _retry, region) { Mapper = _mapper, Direct = _direct });
    }

    /// <summary>
    /// Opens the existing region <paramref name="name"/> for reading only: the handle has no method that writes and does
    /// not carry the owner token.
    /// </summary>
    /// <exception cref="RegionNotFoundException">There is no region of that name.</exception>
    /// <exception cref="RegionMismatchException">The region holds another element type; the message names both.</exception>
    public async Task<ReadOnlySharedArray<T>> OpenReadOnlyAsync<T>(string name, CancellationToken cancellation = default) where T : unmanaged =>
        (await OpenAsync<T>(name, cancellation)).AsReadOnly();

    /// <summary>Opens region <paramref name="name"/>, allocating it with <paramref name="length"/> elements if it does not exist.</summary>
    /// <exception cref="RegionMismatchException">It exists with another element type or length.</exception>
    /// <exception cref="QuotaExceededException">It had to be allocated and the quota would be exceeded.</exception>
    public async Task<SharedArray<T>> OpenOrCreateAsync<T>(string name, long length, Consistency? consistency = null, CancellationToken cancellation = default)
        where T : unmanaged
    {
        var allocation = Owned(await Directory.OpenOrCreate(Request<T>(name, length, consistency)).WaitAsync(cancellation));
        return Remember(new SharedArray<T>(_pages, Cache, _buffer, _requests, _retry, allocation.Region) { OwnerToken = allocation.OwnerToken, Mapper = _mapper, Direct = _direct });
    }

    /// <summary>The metadata of region <paramref name="name"/>, whatever its element type.</summary>
    /// <exception cref="RegionNotFoundException">There is no region of that name.</exception>
    public Task<RegionDescriptor> DescribeAsync(string name, CancellationToken cancellation = default)
    {
        RegionNames.Validate(name);
        return Directory.Open(name).WaitAsync(cancellation);
    }

    /// <summary>
    /// Describes a region's use of the cluster: how many pages it has touched, and for up to
    /// <paramref name="pageLimit"/> of them (the lowest) whether storage holds them and how often each was written.
    /// Asks each examined page for its state, which brings it into memory on its silo.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pageLimit"/> is below 1.</exception>
    /// <exception cref="RegionNotFoundException">No region has that name.</exception>
    public async Task<Inspection.RegionStatistics> StatAsync(string name, int pageLimit = 100_000, CancellationToken cancellation = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageLimit, 1);
        return await Inspection.RegionInspection.StatAsync(_grains, await DescribeAsync(name, cancellation), pageLimit, cancellation);
    }

    /// <summary>Every live region, ordered by name.</summary>
    public async Task<IReadOnlyList<RegionDescriptor>> ListAsync(CancellationToken cancellation = default) =>
        (await Directory.GetState().WaitAsync(cancellation)).Regions;

    /// <summary>
    /// Frees region <paramref name="name"/>: its name is free at once, its stored pages are deleted, and every handle to
    /// it, in any process, fails with <see cref="RegionFreedException"/> once this returns. The one exception is a
    /// <see cref="Consistency.Bounded"/> region: a reader's cached copy, which no page knows of, may still be served
    /// until it reaches the region's staleness bound, as any Bounded value may. And a <see cref="Consistency.Release"/>
    /// handle buffers writes without asking any page, so it takes them after the free too (and reads them back); the
    /// release that sends them fails with <see cref="RegionFreedException"/> and drops them. A call on another region
    /// that finds such writes on its page (the freed range allocated again) drops them and goes on.
    /// <para>It returns once the release is done, however long deleting the pages takes (in calls that each wait at most
    /// half the client's response timeout). Cancelling stops the waiting, not the free: the name is gone from the moment
    /// the first call returns, and the release goes on in the cluster. A release the database fails is tried again, by
    /// this call within its retry budget (<see cref="DsmClientOptions.RetryBudget"/>) and by the cluster until it ends.
    /// A free whose answer does not come (a silo or gateway died) is sent again within that budget too, for the same
    /// allocation: it frees the region once, and never a region another process gave the name since.</para>
    /// </summary>
    /// <exception cref="RegionNotFoundException">There is no region of that name.</exception>
    /// <exception cref="StorageUnavailableException">
    /// The database failed the free, or its release past the retry budget. The free stands (the name is gone), and the
    /// cluster goes on trying to store it and release the region; the message says which was left to do.
    /// </exception>
    /// <exception cref="AccessDeniedException">
    /// This client did not allocate the region and has no admin token (<see cref="DsmClientOptions.AdminToken"/>), or
    /// that token is wrong: another process frees it with <see cref="FreeAsync(string, string, CancellationToken)"/>.
    /// </exception>
    public Task FreeAsync(string name, CancellationToken cancellation = default) =>
        FreeAsync(name, _ownerTokens.GetValueOrDefault(name) ?? _adminToken, cancellation);

    /// <summary>
    /// Frees region <paramref name="name"/> as <see cref="FreeAsync(string, CancellationToken)"/> does, with
    /// <paramref name="token"/>: the owner token its allocation returned (<see cref="SharedArray{T}.OwnerToken"/>), or the
    /// cluster's admin token.
    /// </summary>
    /// <exception cref="RegionNotFoundException">There is no region of that name.</exception>
    /// <exception cref="AccessDeniedException">The token is neither the region's owner token nor the admin token; nothing changed.</exception>
    /// <exception cref="StorageUnavailableException">The database failed the free or its release; the free stands, as above.</exception>
    public async Task FreeAsync(string name, string? token, CancellationToken cancellation = default)
    {
        RegionNames.Validate(name);
        // Freed by its allocation's epoch, so that a free sent again when no answer came (its gateway or the directory's
        // silo died) frees that allocation once, and never a region given the name since.
        var epoch = (await _retry.RunAsync(() => Directory.Open(name).WaitAsync(cancellation), cancellation)).Epoch;
        var progress = await _retry.RunAsync(() => Directory.Free(name, token, _releaseWait, epoch).WaitAsync(cancellation), cancellation);
        _ownerTokens.TryRemove(name, out _);
        // A release that outlasts one call (many written pages to delete) is waited for in calls that each end in time.
        for (var released = progress.Released; !released;)
            released = await _retry.RunAsync(() => Directory.WaitReleased(progress.Epoch, _releaseWait).WaitAsync(cancellation), cancellation);
    }

    /// <summary>
    /// Reads bytes starting at <paramref name="address"/>, which must lie, with the whole range, inside one live
    /// region. Atomic per page, like <see cref="SharedArray{T}.ReadAsync"/>.
    /// </summary>
    /// <exception cref="RegionNotFoundException">No live region contains the whole range.</exception>
    public Task ReadAsync(GlobalAddress address, Memory<byte> destination, CancellationToken cancellation = default) =>
        OnRegionAsync(address, destination.Length, (region, offset) => PagedIo.ReadAsync(_pages, _retry, region, offset, destination, cancellation), cancellation);

    /// <summary>
    /// Writes bytes starting at <paramref name="address"/>, which must lie, with the whole range, inside one live
    /// region. Atomic per page, like <see cref="SharedArray{T}.WriteAsync"/>.
    /// </summary>
    /// <exception cref="RegionNotFoundException">No live region contains the whole range.</exception>
    public Task WriteAsync(GlobalAddress address, ReadOnlyMemory<byte> source, CancellationToken cancellation = default) =>
        OnRegionAsync(address, source.Length, (region, offset) => PagedIo.WriteAsync(_pages, Cache, _requests, _retry, region, offset, source, cancellation), cancellation);

    /// <summary>
    /// Writes a backup of every live region to <paramref name="destination"/>. A silo reads the pages straight from
    /// storage, inside one database snapshot, so the page contents are those of one moment, never from any cache; the
    /// region list is read just after that moment. The file is checksummed (a CRC-32 per page, a SHA-256 over all).
    /// </summary>
    /// <exception cref="DsmException">The cluster's storage cannot take a snapshot (it needs PostgreSQL with the batched page store).</exception>
    /// <exception cref="CorruptPageException">A stored page is damaged.</exception>
    public Task<BackupSummary> BackupAsync(Stream destination, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return BackupWriter.WriteAsync(_grains, destination, cancellation);
    }

    /// <summary>
    /// Restores a backup written by <see cref="BackupAsync"/> into this cluster, which must hold no region: each region
    /// is allocated again under its name, type, length and consistency, and its stored pages written back. The whole
    /// file is checked first, so a damaged file changes nothing; a restore that fails part way frees what it allocated.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a backup, or is damaged or truncated.</exception>
    /// <exception cref="DsmException">The cluster holds regions already.</exception>
    public Task<BackupSummary> RestoreAsync(Stream source, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        return BackupRestorer.RestoreAsync(this, Directory, source, cancellation);
    }

    /// <summary>
    /// Releases unreleased writes (see <see cref="ReleaseAsync"/>; its errors are thrown after the rest is done), disposes
    /// the mappings still open (<see cref="Mapping.MappedRegion{T}.DisposeAsync"/>: their unreleased stores are lost)
    /// and stops their pager, stops the cache's lease renewals, and disconnects if this instance opened the connection
    /// itself.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        Exception? unreleased = null;
        try
        {
            await _buffer.ReleaseAsync(CancellationToken.None);
        }
        catch (Exception error)
        {
            unreleased = error;
        }
        await StopAsync();
        _buffer.Metrics.Dispose();
        if (unreleased is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(unreleased);
    }

    private async Task StopAsync()
    {
        _direct?.Dispose();
        if (_mapper is not null) await _mapper.DisposeAsync();
        if (_metrics is not null) await _metrics.DisposeAsync();
        if (Cache is not null) await Cache.DisposeAsync();
        if (_ownedHost is null) return;
        await _ownedHost.StopAsync();
        _ownedHost.Dispose();
    }

    /// <summary>
    /// Refuses options out of their range, naming the option, before anything connects: taken as they are, some would
    /// fail in the middle of a later call (a negative retry interval at a call's first retry) and some would be read as
    /// something else (a negative cache size as no cache).
    /// </summary>
    private static void CheckOptions(DsmClientOptions options)
    {
        var day = TimeSpan.FromDays(1);
        Check(options.MetricsInterval >= TimeSpan.Zero && options.MetricsInterval <= day, nameof(options.MetricsInterval), options.MetricsInterval, "is zero (no reports) or positive, up to a day");
        Check(options.DirectIdleTimeout > TimeSpan.Zero && options.DirectIdleTimeout <= day, nameof(options.DirectIdleTimeout), options.DirectIdleTimeout, "is positive, up to a day");
        Check(options.DirectKeepAlive == TimeSpan.Zero || (options.DirectKeepAlive >= TimeSpan.FromSeconds(1) && options.DirectKeepAlive <= TimeSpan.FromHours(2)),
            nameof(options.DirectKeepAlive), options.DirectKeepAlive, "is zero (never) or from 1 s to 2 hours");
        Check(options.CacheBytes >= 0, nameof(options.CacheBytes), options.CacheBytes, "is zero (no cache) or positive");
        Check(options.PrefetchPages >= 0, nameof(options.PrefetchPages), options.PrefetchPages, "is zero (no prefetching) or positive");
        Check(options.RetryBudget >= TimeSpan.Zero && options.RetryBudget <= day, nameof(options.RetryBudget), options.RetryBudget, "is zero or positive, up to a day");
        Check(options.RetryInterval >= TimeSpan.Zero && options.RetryInterval <= day, nameof(options.RetryInterval), options.RetryInterval, "is zero or positive, up to a day");
        Check(options.ResponseTimeout > TimeSpan.Zero && options.ResponseTimeout <= day, nameof(options.ResponseTimeout), options.ResponseTimeout, "is positive, up to a day");
        Check(options.ConnectTimeout > TimeSpan.Zero && options.ConnectTimeout <= day, nameof(options.ConnectTimeout), options.ConnectTimeout, "is positive, up to a day");
        Check(options.GatewayRefreshInterval > TimeSpan.Zero && options.GatewayRefreshInterval <= day, nameof(options.GatewayRefreshInterval), options.GatewayRefreshInterval, "is positive, up to a day");
        if (string.IsNullOrWhiteSpace(options.ClusterId) || string.IsNullOrWhiteSpace(options.ServiceId))
            throw new ArgumentException($"DsmClientOptions.ClusterId and ServiceId name the cluster; they are '{options.ClusterId}' and '{options.ServiceId}'.", nameof(options));

        static void Check(bool holds, string option, object value, string rule)
        {
            if (!holds) throw new ArgumentOutOfRangeException(nameof(options), value, $"DsmClientOptions.{option} {rule}.");
        }
    }

    private static AllocationRequest Request<T>(string name, long length, Consistency? consistency) where T : unmanaged
    {
        RegionNames.Validate(name);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        return new AllocationRequest(name, ElementCodec<T>.TypeName, ElementCodec<T>.Size, length, consistency ?? Consistency.Strict);
    }

    /// <summary>Encrypts the gateway connections, presents the client's certificate if it has one, and admits only silos the authority signed.</summary>
    private static void UseTls(IClientBuilder client, DsmClientOptions options) => client.UseTls(tls =>
    {
        tls.LocalCertificate = options.TlsCertificate;
        tls.RemoteCertificateValidation = (silo, _, errors) => Security.CertificateAuthority.Admits(options.TlsAuthority, silo, errors);
    });

    /// <summary>Keeps the owner token of an allocation this client made, for its own frees.</summary>
    internal RegionAllocation Owned(RegionAllocation allocation)
    {
        if (allocation.OwnerToken is { } token) _ownerTokens[allocation.Region.Name] = token;
        return allocation;
    }

    private SharedArray<T> Remember<T>(SharedArray<T> array) where T : unmanaged
    {
        _knownRegions = [.. _knownRegions.Where(known => known.Name != array.Name && known.Epoch != array.Region.Epoch), array.Region];
        return array;
    }

    /// <summary>Runs a byte transfer on the region that holds [address, address + length), found in the client's memory of regions or asked of the directory.</summary>
    private async Task OnRegionAsync(GlobalAddress address, int length, Func<RegionDescriptor, long, Task> transfer, CancellationToken cancellation)
    {
        var region = _knownRegions.FirstOrDefault(known => known.Contains(address));
        for (var attempt = 0; ; attempt++)
        {
            region ??= await Directory.Find(address).WaitAsync(cancellation);
            var offset = address - region.BaseAddress;
            if (length > region.ByteLength - offset)
                throw new RegionNotFoundException(
                    $"The {length} bytes at {address} run past the end of region '{region.Name}' ({region.ByteLength} bytes at {region.BaseAddress}).");
            try
            {
                await transfer(region, offset);
                _knownRegions = [.. _knownRegions.Where(known => known.Epoch != region.Epoch), region];
                return;
            }
            catch (RegionFreedException) when (attempt == 0)
            {
                // The remembered region was freed, perhaps by another process: forget it and ask the directory once.
                _knownRegions = [.. _knownRegions.Where(known => known.Epoch != region.Epoch)];
                region = null;
            }
        }
    }
}
