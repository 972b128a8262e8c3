using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using OrleansDsm.Caching;

namespace OrleansDsm.Direct;

/// <summary>
/// The one direct connection that the <see cref="DirectChannel"/>s of an Orleans client share (see
/// <see cref="DirectWire"/>): each connection costs its own receiving and sending turns on both sides, so four
/// <c>DsmClient</c>s with a connection each served fewer requests than with none (docs/performance.md, "The direct
/// channel"). Only channels with the same settings (TLS, timeouts) share one: a client given TLS never sends over a
/// connection that a client without opened in the clear. Each channel is a member with a number of its own, never given to another in the link's life; every
/// member joins each new connection before the connection is handed out, so no request names a number its silo does
/// not know. The link connects in the background, to the silo a grain call reaches, and closes when its last member
/// leaves.
/// </summary>
internal sealed class DirectLink
{
    // How long after a failed or refused attempt the next may start: a silo without a channel is asked again now and then,
    // since the gateway a call reaches may change.
    private const long RetryMs = 5_000;

    // The links of each Orleans client, by its grain factory and their settings; the entry goes with the client.
    private static readonly ConditionalWeakTable<IGrainFactory, Dictionary<Settings, DirectLink>> Links = new();

    private readonly IGrainFactory _grains;
    private readonly TimeSpan _connectTimeout;
    private readonly TimeSpan _responseTimeout;
    private readonly DirectTls? _tls;
    // Read by the connection's receiving thread for each revocation; changed under _gate.
    private readonly ConcurrentDictionary<ushort, DirectChannel> _members = new();
    private readonly Lock _gate = new();
    private int _numbered;
    private bool _closed;
    private DirectConnection? _connection;
    private int _connecting;
    private long _nextAttemptAt;
    // Failed attempts to connect, by ConnectFailure.
    private readonly long[] _failures = new long[Enum.GetValues<ConnectFailure>().Length];

    private DirectLink(IGrainFactory grains, TimeSpan connectTimeout, TimeSpan responseTimeout, DirectTls? tls)
    {
        _grains = grains;
        _connectTimeout = connectTimeout;
        _responseTimeout = responseTimeout;
        _tls = tls;
    }

    /// <summary>
    /// Makes <paramref name="member"/> a member of <paramref name="grains"/>' link with these timeouts and this TLS (see
    /// <see cref="DirectConnection.OpenAsync"/>), made if the Orleans client has none open with them (or it has given
    /// all its numbers), and returns the link and the member's number.
    /// </summary>
    public static (DirectLink Link, ushort Number) Join(IGrainFactory grains, DirectChannel member, TimeSpan connectTimeout, TimeSpan responseTimeout, DirectTls? tls)
    {
        var settings = new Settings(connectTimeout, responseTimeout, tls?.Identity);
        lock (Links)
        {
            var links = Links.GetOrCreateValue(grains);
            if (links.TryGetValue(settings, out var open) && open.TryAdd(member) is { } number) return (open, number);
            var link = new DirectLink(grains, connectTimeout, responseTimeout, tls);
            links[settings] = link;
            return (link, link.TryAdd(member)!.Value);
        }
    }

    /// <summary>The open connection; with none, null, and one is sought in the background.</summary>
    public DirectConnection? Current
    {
        get
        {
            if (Volatile.Read(ref _connection) is { IsOpen: true } open) return open;
            Seek();
            return null;
        }
    }

    /// <summary>The connection, open or broken, that the link holds now; null before the first has opened.</summary>
    public DirectConnection? Connection => Volatile.Read(ref _connection);

    /// <summary>How many attempts to connect have failed so far for <paramref name="reason"/>.</summary>
    public long Failures(ConnectFailure reason) => Interlocked.Read(ref _failures[(int)reason]);

    /// <summary>Starts looking for a connection, unless one is being sought, the last attempt was too recent, or the link has closed.</summary>
    public void Seek()
    {
        if (Volatile.Read(ref _closed) || Environment.TickCount64 < Volatile.Read(ref _nextAttemptAt)) return;
        if (Interlocked.CompareExchange(ref _connecting, 1, 0) != 0) return;
        _ = ConnectAsync();
    }

    /// <summary>Takes <paramref name="number"/> off the link, telling the silo; the last member to leave closes the link.</summary>
    public void Leave(ushort number)
    {
        DirectConnection? closing = null;
        lock (_gate)
        {
            _members.TryRemove(number, out _);
            if (_members.IsEmpty)
            {
                Volatile.Write(ref _closed, true);
                closing = Interlocked.Exchange(ref _connection, null);
            }
            else if (_connection is { IsOpen: true } open) open.Leave(number);
        }
        closing?.Dispose();
    }

    /// <summary>Gives <paramref name="member"/> the next number and joins it to the open connection; null once the link is closed or has no numbers left.</summary>
    private ushort? TryAdd(DirectChannel member)
    {
        lock (_gate)
        {
            if (_closed || _numbered > ushort.MaxValue) return null;
            var number = (ushort)_numbered++;
            _members[number] = member;
            if (_connection is { IsOpen: true } open) open.Join(number, member.Session);
            return number;
        }
    }

    /// <summary>What a channel must share with a link to join it: <c>null</c> TLS is none (the clear, when the silo's is).</summary>
    private readonly record struct Settings(TimeSpan ConnectTimeout, TimeSpan ResponseTimeout, string? Tls);

    private void Failed(ConnectFailure reason) => Interlocked.Increment(ref _failures[(int)reason]);

    private bool[]? Revoke(ushort number, PageRevocation[] revocations) =>
        // A member that has left has no cache to keep copies in.
        _members.TryGetValue(number, out var member) ? member.Revoke(revocations) : null;

    private async Task ConnectAsync()
    {
        try
        {
            if (await _grains.GetGrain<IDirectEndpointGrain>(0).GetState() is not { } endpoint)
            {
                Failed(ConnectFailure.NoChannel);
                return;
            }
            // A client given TLS of its own never sends its requests in the clear.
            if (_tls is not null && !endpoint.Tls)
            {
                Failed(ConnectFailure.Plaintext);
                return;
            }
            var connection = await DirectConnection.OpenAsync(endpoint, _connectTimeout, _responseTimeout, Revoke, _tls);
            DirectConnection? replaced;
            lock (_gate)
            {
                if (_closed) replaced = connection;
                else
                {
                    foreach (var (number, member) in _members) connection.Join(number, member.Session);
                    replaced = Interlocked.Exchange(ref _connection, connection);
                }
            }
            replaced?.Dispose();
        }
        catch (System.Security.Authentication.AuthenticationException)
        {
            // The silo refused our certificate or we its: calls go through Orleans, and the count tells the operator why.
            Failed(ConnectFailure.Tls);
        }
        catch (Exception)
        {
            // No channel for now (the silo is unreachable, stopping or firewalled): calls go through Orleans meanwhile.
            Failed(ConnectFailure.Unreachable);
        }
        finally
        {
            Volatile.Write(ref _nextAttemptAt, Environment.TickCount64 + RetryMs);
            Volatile.Write(ref _connecting, 0);
        }
    }
}

/// <summary>Why an attempt to open a direct connection failed; each is a metric tag (see <see cref="DirectChannel"/>).</summary>
internal enum ConnectFailure
{
    /// <summary>The silo offers no channel (<c>Dsm:DirectPort=-1</c>, or it is stopping).</summary>
    NoChannel,

    /// <summary>The silo's channel is in the clear, and this client, given TLS, sends nothing in the clear.</summary>
    Plaintext,

    /// <summary>The TLS handshake failed: the silo refused the client's certificate, or the client the silo's.</summary>
    Tls,

    /// <summary>Anything else: the endpoint could not be asked or reached in time.</summary>
    Unreachable,
}
