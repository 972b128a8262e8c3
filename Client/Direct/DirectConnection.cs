using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using OrleansDsm.Caching;
using OrleansDsm.Pages;

namespace OrleansDsm.Direct;

/// <summary>
/// One connection to a silo's direct channel (see <see cref="DirectWire"/>), TLS when the silo's is (see
/// <see cref="DirectTls"/>). Requests from any thread are queued and sent together; replies are matched by id. A
/// thread of the connection's own receives, blocked in the kernel between messages (the connection's socket never has
/// an asynchronous operation, TLS or not, see <see cref="DirectTransport.Blocking"/>, so the kernel wakes that thread
/// itself).
/// The silo sends its revocations of its members' cached copies on the same connection, and this thread applies and
/// answers them as they arrive: a writer elsewhere waits for that answer, which neither a trip through the thread pool
/// nor a starved pool delays. Replies resume their callers on the thread pool (unless a caller asked to resume here,
/// see <see cref="SendAsync"/>), so a caller that blocks holds back no other reply; when several arrive together, the
/// requests their callers send meanwhile wait until those callers have had their turn (a work item queued behind
/// them), so they leave in a few sends rather than one each. Once the connection breaks, or a reply is later than the
/// response timeout, every request waiting on it ends <see cref="DirectStatus.Unknown"/> and the connection is closed.
/// A fill's reply carries the page (<see cref="DirectFillReply"/>), which <see cref="FillAsync"/> returns beside the reply.
/// </summary>
internal sealed class DirectConnection : IDisposable
{
    // A revocation's or a fill's body (a page is at most 1 MiB) is never this long; one that says so is not from our silo.
    private const int LongestBody = 64 << 20;

    private readonly DirectTransport _transport;
    private readonly DirectOutbox _outbox;
    private readonly Func<ushort, PageRevocation[], bool[]?> _revoke;
    private readonly ConcurrentDictionary<uint, Waiting> _waiting = new();
    // The answers to the revocations of one receive, sent together once its frames are handled; the receiving thread's own.
    private readonly List<IDirectFrame> _answers = [];
    private byte[] _buffer = new byte[256 * DirectWire.ReplySize];
    private readonly Timer _overdue;
    private readonly long _timeoutTicks;
    private int _filled;
    private uint _lastId;
    private volatile bool _broken;

    private DirectConnection(DirectTransport transport, DirectEndpoint endpoint, TimeSpan responseTimeout, Func<ushort, PageRevocation[], bool[]?> revoke)
    {
        _transport = transport;
        Endpoint = endpoint;
        _revoke = revoke;
        _outbox = new DirectOutbox(transport);
        _timeoutTicks = (long)(responseTimeout.TotalSeconds * Stopwatch.Frequency);
        var sweep = TimeSpan.FromTicks(Math.Max(responseTimeout.Ticks / 4, TimeSpan.FromMilliseconds(100).Ticks));
        _overdue = new Timer(static state => ((DirectConnection)state!).EndOverdue(), this, sweep, sweep);
    }

    /// <summary>The silo's endpoint this connection reaches.</summary>
    public DirectEndpoint Endpoint { get; }

    /// <summary>Whether requests can still be sent.</summary>
    public bool IsOpen => !_broken;

    /// <summary>
    /// Connects to <paramref name="endpoint"/>, with TLS when the endpoint says so (by <paramref name="tls"/>'s rules, or,
    /// without them, presenting no certificate and admitting a silo the machine trusts), within
    /// <paramref name="connectTimeout"/>, and says hello; the silo's revocations for a member's cache are applied by
    /// <paramref name="revoke"/>, given the member's number (none kept, where it answers null or there is none). After
    /// <paramref name="keepAlive"/> with nothing on it, the connection asks whether the silo is still there (see
    /// <see cref="DirectKeepAlive"/>; zero: never).
    /// </summary>
    /// <exception cref="System.Security.Authentication.AuthenticationException">The TLS handshake failed: the silo refused our certificate, or we its.</exception>
    public static async Task<DirectConnection> OpenAsync(DirectEndpoint endpoint, TimeSpan connectTimeout, TimeSpan responseTimeout,
        Func<ushort, PageRevocation[], bool[]?>? revoke = null, DirectTls? tls = null, TimeSpan keepAlive = default)
    {
        var address = IPAddress.Parse(endpoint.Address);
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        DirectTransport? transport = null;
        try
        {
            DirectKeepAlive.Apply(socket, keepAlive);
            using var timeout = new CancellationTokenSource(connectTimeout);
            // Connected, and with TLS authenticated, by blocking calls (on the thread pool, given up with the socket at the
            // timeout), so that the socket never has an asynchronous operation: see DirectTransport.Blocking.
            transport = await Task.Run(() =>
            {
                socket.Connect(new IPEndPoint(address, endpoint.Port));
                return endpoint.Tls
                    ? DirectTransport.BlockingTls(socket, tls ?? DirectTls.ForClient(null, null), endpoint.Address)
                    : DirectTransport.Blocking(socket);
            }).WaitAsync(timeout.Token);
            var hello = new byte[DirectWire.HelloSize];
            DirectWire.WriteHello(hello);
            for (var sent = 0; sent < hello.Length;) sent += await transport.SendAsync(hello.AsMemory(sent)).AsTask().WaitAsync(timeout.Token);
        }
        catch
        {
            transport?.Dispose();
            socket.Dispose();
            throw;
        }
        var connection = new DirectConnection(transport, endpoint, responseTimeout, revoke ?? (static (_, _) => null));
        new Thread(connection.Receive) { IsBackground = true, Name = $"direct channel to {endpoint.Address}:{endpoint.Port}" }.Start();
        return connection;
    }

    /// <summary>
    /// Names <paramref name="session"/> as member <paramref name="member"/>, for the requests and revocations after this;
    /// a number is joined once per connection.
    /// </summary>
    public void Join(ushort member, Guid session) => _outbox.Send(DirectRequest.Join(member, session));

    /// <summary>Tells the silo that member <paramref name="member"/>'s session is gone, so its revocations go elsewhere.</summary>
    public void Leave(ushort member) => _outbox.Send(new DirectRequest(0, DirectOperation.Leave, 0, 0, 0, 0, 0, 0, member));

    /// <summary>
    /// Sends <paramref name="request"/> (its id is set here) and returns the silo's reply, or <see cref="DirectStatus.Unknown"/>
    /// if none comes. The caller resumes on the thread pool, unless <paramref name="resumeOnReceivingThread"/>: then on
    /// the thread that completes the reply, mostly the receiving thread itself, which saves waking a pool thread (the
    /// pager's fills; see docs/performance.md, "Mapped memory"). Such a caller must be brief and must never wait for
    /// another reply: meanwhile the connection receives nothing, so it would wait for itself.
    /// </summary>
    public Task<DirectReply> SendAsync(DirectRequest request, bool resumeOnReceivingThread = false) => Enqueue(request, resumeOnReceivingThread).Reply.Task;

    /// <summary>
    /// Sends a fill <paramref name="request"/> as <see cref="SendAsync"/> does, and returns the silo's reply with the page's
    /// copy, or null beside a reply that is not <see cref="DirectStatus.Done"/>.
    /// </summary>
    public async Task<(DirectReply Reply, PageCopy? Copy)> FillAsync(DirectRequest request, bool resumeOnReceivingThread = false)
    {
        var waiting = Enqueue(request, resumeOnReceivingThread);
        // Not resumed through the caller's synchronization context, which would move a resumption the caller asked to
        // have on the receiving thread onto another (the caller's own await still returns to its context).
        var reply = await waiting.Reply.Task.ConfigureAwait(false);
        return (reply, waiting.Copy);
    }

    private Waiting Enqueue(DirectRequest request, bool resumeOnReceivingThread)
    {
        var id = Interlocked.Increment(ref _lastId);
        var waiting = new Waiting(Stopwatch.GetTimestamp(), resumeOnReceivingThread);
        _waiting[id] = waiting;
        // A break after the sweep of waiting requests would leave this one waiting for ever: it ends here instead.
        if (_broken) End(id, DirectStatus.Unknown);
        else _outbox.Send(request with { Id = id });
        return waiting;
    }

    /// <summary>
    /// The connection's receiving thread: blocks until the silo sends, then handles what came. Revocations are answered
    /// here, so a client whose thread pool is starved still answers them; replies resume their callers on the thread
    /// pool (but those that asked to resume here), so a caller that blocks holds back no other reply.
    /// </summary>
    private void Receive()
    {
        while (true)
        {
            int received;
            try
            {
                received = _transport.Receive(_buffer.AsSpan(_filled));
            }
            catch (Exception error) when (error is SocketException or IOException or ObjectDisposedException)
            {
                Break();
                return;
            }
            if (received == 0)
            {
                Break();
                return;
            }
            if (!Take(received)) return;
        }
    }

    /// <summary>Handles the frames a receive completed: applies revocations, and resumes the callers of replies.</summary>
    private bool Take(int received)
    {
        _filled += received;
        var used = 0;
        var corked = false;
        var malformed = false;
        // The last reply matched, with its caller's wait, completed once the next is found (or the frames end), so that
        // the outbox is corked before any caller of several resumes.
        (Waiting Wait, DirectReply Reply)? previous = null;
        while (_filled - used >= DirectWire.ReplySize)
        {
            var frame = _buffer.AsSpan(used, _filled - used);
            var kind = frame[5];
            var length = DirectWire.ReplySize;
            if (kind is DirectRevocation.Kind or DirectFillReply.Kind)
            {
                var body = DirectWire.BodyLengthOf(frame);
                if (body is < 4 or > LongestBody)
                {
                    malformed = true;
                    break;
                }
                length += body;
                if (frame.Length < length)
                {
                    if (_buffer.Length < length) Array.Resize(ref _buffer, length);
                    break;
                }
            }
            used += length;
            if (kind == DirectRevocation.Kind)
            {
                if (Revoke(frame) is { } answer) _answers.Add(answer);
                continue;
            }
            DirectReply reply;
            PageCopy? copy = null;
            if (kind != DirectFillReply.Kind) reply = DirectReply.ReadFrom(frame);
            else if (ReadFill(frame) is { } fill) (reply, copy) = (new DirectReply(fill.Id, DirectStatus.Done, 0, fill.Copy.Version, fill.Elsewhere), fill.Copy);
            else
            {
                malformed = true;
                break;
            }
            if (!_waiting.TryRemove(reply.Id, out var waiting)) continue;
            // Read by the caller once the reply resumes it.
            waiting.Copy = copy;
            if (previous is not null)
            {
                // The callers resumed together mostly send their next requests at once: held back until they have had
                // their turn, those leave in a few sends, not one each. Corked before the first of them resumes.
                if (!corked) _outbox.Cork();
                corked = true;
                previous.Value.Wait.Reply.TrySetResult(previous.Value.Reply);
            }
            previous = (waiting, reply);
        }
        // Not held back by a cork: writers wait for these. One send for all, as the silo sends a page's revocations for the
        // members of a connection together (each send wakes the silo).
        if (_answers.Count > 0)
        {
            _outbox.SendNow(_answers);
            _answers.Clear();
        }
        if (previous is var (wait, last)) wait.Reply.TrySetResult(last);
        // Queued behind the callers resumed above, so it runs once most of them have sent; but on a thread of its own,
        // so a caller that blocks holds back nothing.
        if (corked) ThreadPool.UnsafeQueueUserWorkItem(static outbox => outbox.Uncork(), _outbox, preferLocal: false);
        // A frame this client cannot read is not from our silo: the connection closes, after the replies before it.
        if (malformed)
        {
            Break();
            return false;
        }
        _buffer.AsSpan(used, _filled - used).CopyTo(_buffer);
        _filled -= used;
        return true;
    }

    /// <summary>A fill's reply; null when it is malformed.</summary>
    private static DirectFillReply? ReadFill(ReadOnlySpan<byte> frame)
    {
        try
        {
            return DirectFillReply.ReadFrom(frame);
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    /// <summary>
    /// Applies a revocation frame to the cache, here on the receiving thread (a few locked steps), and returns its
    /// answer; null when it goes unanswered.
    /// </summary>
    private DirectRevocationAnswer? Revoke(ReadOnlySpan<byte> frame)
    {
        DirectRevocation revocation;
        try
        {
            revocation = DirectRevocation.ReadFrom(frame);
        }
        catch (InvalidDataException)
        {
            // Unanswered, the silo's page waits out this session's lease, as for a cache that never answers.
            return null;
        }
        bool[] kept;
        try
        {
            kept = _revoke(revocation.Member, revocation.Revocations) ?? new bool[revocation.Revocations.Length];
        }
        catch (Exception)
        {
            // As an observer call that failed: unanswered, the page waits out the lease. Thrown here, it would end the process.
            return null;
        }
        return new DirectRevocationAnswer(revocation.Id, kept);
    }

    private void EndOverdue()
    {
        var now = Stopwatch.GetTimestamp();
        foreach (var (id, waiting) in _waiting)
            if (now - waiting.Sent > _timeoutTicks)
            {
                // A silo that stopped answering may have stopped for good (a host cut off): the connection goes too.
                End(id, DirectStatus.Unknown);
                Break();
            }
    }

    /// <summary>Ends a waiting request; its caller resumes as its reply's would (see <see cref="SendAsync"/>).</summary>
    private void End(uint id, DirectStatus status)
    {
        if (!_waiting.TryRemove(id, out var waiting)) return;
        waiting.Reply.TrySetResult(new DirectReply(id, status, 0));
    }

    private void Break()
    {
        _broken = true;
        _overdue.Dispose();
        _transport.Dispose();
        foreach (var id in _waiting.Keys) End(id, DirectStatus.Unknown);
    }

    public void Dispose() => Break();

    private sealed class Waiting(long sent, bool resumeOnReceivingThread)
    {
        public long Sent => sent;

        // Completed on the receiving thread. Its continuations run on the thread pool unless the caller asked otherwise,
        // so a caller that blocks holds back no other reply; a caller blocked in a synchronous wait is released directly.
        public TaskCompletionSource<DirectReply> Reply { get; } =
            new(resumeOnReceivingThread ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously);

        // A fill's copy, set on the receiving thread before Reply completes.
        public PageCopy? Copy { get; set; }
    }
}
