using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using OrleansDsm.Caching;

namespace OrleansDsm.Direct;

/// <summary>
/// The direct connections that the <see cref="DirectChannel"/>s of an Orleans client share (see
/// <see cref="DirectWire"/>): one to the silo a grain call reaches, and one to each silo its requests were passed on
/// to (see <see cref="PageHomes"/>), so that a page active on another silo is reached without a call between silos.
/// Each connection costs its own receiving and sending turns on both sides, so four <c>DsmClient</c>s with a
/// connection each served fewer requests than with none (docs/performance.md, "The direct channel"); only channels
/// with the same settings (TLS, timeouts) share, so a client given TLS never sends over a connection that a client
/// without opened in the clear. Each channel is a member with a number of its own, never given to another in the
/// link's life; every member joins each new connection before the connection is handed out, so no request names a
/// number its silo does not know. The link connects in the background and closes when its last member leaves. A
/// connection to a silo other than the gateway's closes once nothing has used it (no request sent, no revocation
/// received) for the idle timeout, and opens again when a request needs it.
/// </summary>
internal sealed class DirectLink
{
    // How long after a failed or refused attempt the next may start: a silo without a channel is asked again now and then,
    // since the gateway a call reaches may change.
    private const long RetryMs = 5_000;

    // The links of each Orleans client, by its grain factory and their settings; the entry goes with the client.
    private static readonly ConditionalWeakTable<IGrainFactory, Dictionary<Settings, DirectLink>> Links = new();

    private readonly IGrainFactory _grains;
    private readonly DirectTimeouts _timeouts;
    // Closes the connections to other silos that have been idle too long; stopped when the link closes.
    private readonly Timer _idleCheck;
    private readonly DirectTls? _tls;
    // Read by the connections' receiving threads for each revocation; changed under _gate.
    private readonly ConcurrentDictionary<ushort, DirectChannel> _members = new();
    private readonly Lock _gate = new();
    private readonly Slot _gateway = new();
    // Connections to the silos other than the gateway's that pages were found on, by endpoint.
    private readonly ConcurrentDictionary<DirectEndpoint, Slot> _elsewhere = new();
    private readonly PageHomes _homes;
    private int _numbered;
    private bool _closed;
    // Failed attempts to connect, by ConnectFailure.
    private readonly long[] _failures = new long[Enum.GetValues<ConnectFailure>().Length];

    private DirectLink(IGrainFactory grains, DirectTimeouts timeouts, DirectTls? tls)
    {
        _grains = grains;
        _timeouts = timeouts;
        // A connection is closed between one and one and a quarter idle timeouts after its last use.
        var period = TimeSpan.FromTicks(Math.Max(timeouts.Idle.Ticks / 4, TimeSpan.FromMilliseconds(10).Ticks));
        _idleCheck = new Timer(static link => ((DirectLink)link!).CloseIdle(), this, period, period);
        _tls = tls;
        _homes = new PageHomes(LearnAsync);
    }

    /// <summary>
    /// Makes <paramref name="member"/> a member of <paramref name="grains"/>' link with these timeouts and this TLS (see
    /// <see cref="DirectConnection.OpenAsync"/>), made if the Orleans client has none open with them (or it has given
    /// all its numbers), and returns the link and the member's number.
    /// </summary>
    public static (DirectLink Link, ushort Number) Join(IGrainFactory grains, DirectChannel member, DirectTimeouts timeouts, DirectTls? tls)
    {
        var settings = new Settings(timeouts, tls?.Identity);
        lock (Links)
        {
            var links = Links.GetOrCreateValue(grains);
            if (links.TryGetValue(settings, out var open) && open.TryAdd(member) is { } number) return (open, number);
            var link = new DirectLink(grains, timeouts, tls);
            links[settings] = link;
            return (link, link.TryAdd(member)!.Value);
        }
    }

    /// <summary>The open connection to the gateway's silo; with none, null, and one is sought in the background.</summary>
    public DirectConnection? Current
    {
        get
        {
            if (_gateway.Open is { } open) return open;
            Seek();
            return null;
        }
    }

    /// <summary>
    /// The open connection for a request to <paramref name="page"/>: to its silo when the link knows it and has one
    /// open there (else one is sought in the background), otherwise to the gateway's silo; null when neither is open.
    /// </summary>
    public DirectConnection? For(long page)
    {
        var gateway = Current;
        if (!_homes.TryGet(page, out var home) || home == gateway?.Endpoint) return gateway;
        var slot = _elsewhere.GetOrAdd(home, static _ => new Slot());
        if (slot.Open is { } open)
        {
            slot.Used();
            return open;
        }
        if (TryStart(slot)) _ = ConnectAsync(slot, home);
        return gateway;
    }

    /// <summary>A request for <paramref name="page"/> was answered over <paramref name="via"/> with <paramref name="reply"/> (see <see cref="PageHomes.Replied"/>).</summary>
    public void Replied(long page, DirectConnection via, DirectReply reply) => _homes.Replied(page, via.Endpoint, reply);

    /// <summary>The connection to the gateway's silo, open or broken, that the link holds now; null before the first has opened.</summary>
    public DirectConnection? Connection => Volatile.Read(ref _gateway.Connection);

    /// <summary>How many of the link's connections are open: the gateway's silo's and those to other silos.</summary>
    public int OpenConnections => Slots().Count(slot => slot.Open is not null);

    /// <summary>How many attempts to connect have failed so far for <paramref name="reason"/>.</summary>
    public long Failures(ConnectFailure reason) => Interlocked.Read(ref _failures[(int)reason]);

    /// <summary>
    /// Starts looking for a connection to the gateway's silo, unless one is open, one is being sought, the last attempt
    /// was too recent, or the link has closed. An open one is never replaced: each new client of the link seeks, and a
    /// replaced connection cost its members their revocations over the channel until the silo listed them again.
    /// </summary>
    public void Seek()
    {
        if (_gateway.Open is null && TryStart(_gateway)) _ = ConnectAsync(_gateway, known: null);
    }

    /// <summary>Takes <paramref name="number"/> off the link, telling the silos; the last member to leave closes the link.</summary>
    public void Leave(ushort number)
    {
        var closing = new List<DirectConnection>();
        lock (_gate)
        {
            _members.TryRemove(number, out _);
            if (_members.IsEmpty)
            {
                Volatile.Write(ref _closed, true);
                _idleCheck.Dispose();
                foreach (var slot in Slots())
                    if (Interlocked.Exchange(ref slot.Connection, null) is { } connection) closing.Add(connection);
            }
            else
                foreach (var slot in Slots())
                    slot.Open?.Leave(number);
        }
        foreach (var connection in closing) connection.Dispose();
    }

    /// <summary>Closes the connections to other silos that nothing has used for the idle timeout.</summary>
    private void CloseIdle()
    {
        var usedBefore = Environment.TickCount64 - (long)_timeouts.Idle.TotalMilliseconds;
        var closing = new List<DirectConnection>();
        lock (_gate)
        {
            foreach (var slot in _elsewhere.Values)
                if (slot.Open is { } open && Volatile.Read(ref slot.LastUsedAt) < usedBefore && Interlocked.CompareExchange(ref slot.Connection, null, open) == open)
                    closing.Add(open);
        }
        // A request that took the connection just now gets an answer of Unknown, and is made again as a call.
        foreach (var connection in closing) connection.Dispose();
    }

    /// <summary>Gives <paramref name="member"/> the next number and joins it to the open connections; null once the link is closed or has no numbers left.</summary>
    private ushort? TryAdd(DirectChannel member)
    {
        lock (_gate)
        {
            if (_closed || _numbered > ushort.MaxValue) return null;
            var number = (ushort)_numbered++;
            _members[number] = member;
            foreach (var slot in Slots()) slot.Open?.Join(number, member.Session);
            return number;
        }
    }

    private IEnumerable<Slot> Slots() => _elsewhere.Values.Prepend(_gateway);

    /// <summary>What a channel must share with a link to join it: <c>null</c> TLS is none (the clear, when the silo's is).</summary>
    private readonly record struct Settings(DirectTimeouts Timeouts, string? Tls);

    private void Failed(ConnectFailure reason) => Interlocked.Increment(ref _failures[(int)reason]);

    private bool[]? Revoke(ushort number, PageRevocation[] revocations) =>
        // A member that has left has no cache to keep copies in.
        _members.TryGetValue(number, out var member) ? member.Revoke(revocations) : null;

    /// <summary>The endpoint of <paramref name="page"/>'s silo, asked of the page; null when it has none this link may use.</summary>
    private async Task<DirectEndpoint?> LearnAsync(long page)
    {
        var endpoint = (await _grains.GetGrain<Pages.IPageGrain>(page).GetState()).DirectEndpoint;
        return _tls is not null && endpoint is { Tls: false } ? null : endpoint;
    }

    /// <summary>Whether an attempt to connect <paramref name="slot"/> may start now; if so, it is marked as under way.</summary>
    private bool TryStart(Slot slot) =>
        !Volatile.Read(ref _closed) && Environment.TickCount64 >= Volatile.Read(ref slot.NextAttemptAt) && Interlocked.CompareExchange(ref slot.Connecting, 1, 0) == 0;

    /// <summary>Connects <paramref name="slot"/> to <paramref name="known"/>, or, for the gateway's, to the endpoint its silo names.</summary>
    private async Task ConnectAsync(Slot slot, DirectEndpoint? known)
    {
        try
        {
            if ((known ?? await _grains.GetGrain<IDirectEndpointGrain>(0).GetState()) is not { } endpoint)
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
            var connection = await DirectConnection.OpenAsync(endpoint, _timeouts.Connect, _timeouts.Response, (number, revocations) =>
            {
                slot.Used();
                return Revoke(number, revocations);
            }, _tls, _timeouts.KeepAlive);
            DirectConnection? replaced;
            lock (_gate)
            {
                if (_closed) replaced = connection;
                else
                {
                    foreach (var (number, member) in _members) connection.Join(number, member.Session);
                    slot.Used();
                    replaced = Interlocked.Exchange(ref slot.Connection, connection);
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
            Volatile.Write(ref slot.NextAttemptAt, Environment.TickCount64 + RetryMs);
            Volatile.Write(ref slot.Connecting, 0);
        }
    }

    /// <summary>One connection's place in the link: the connection, whether one is being sought, and when the next attempt may start.</summary>
    private sealed class Slot
    {
        public DirectConnection? Connection;
        public int Connecting;
        public long NextAttemptAt;
        public long LastUsedAt;

        /// <summary>Marks the slot's connection as used now: a request is sent on it, or a revocation came.</summary>
        public void Used() => Volatile.Write(ref LastUsedAt, Environment.TickCount64);

        /// <summary>The connection if it is open.</summary>
        public DirectConnection? Open => Volatile.Read(ref Connection) is { IsOpen: true } open ? open : null;
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
