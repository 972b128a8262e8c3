using System.Collections.Concurrent;
using OrleansDsm.Caching;
using OrleansDsm.Direct;
using OrleansDsm.Errors;
using OrleansDsm.Grains.Caching;
using OrleansDsm.Grains.Pages;
using OrleansDsm.Grains.Regions;
using OrleansDsm.Pages;

namespace OrleansDsm.Grains.Direct;

/// <summary>
/// Serves one direct connection. A get of a page active here reads its committed image on the receiving thread, as a
/// range read does (see <see cref="LocalPages"/>); a set or an atomic of a page active here runs on the page's turn
/// without a call (see <see cref="PageGrain.TryWriteElementHere"/>); a get that waits only for the silo to learn again
/// that the page's region is live is read here once it has; a page active elsewhere, or one that would make the read
/// wait, is reached by the Orleans call the client would have made, from this silo, and the reply of a request for a
/// page not active here says so, for the client to learn the page's silo and go there. Replies go out as requests end,
/// in any order, several to a send when they end together. The client's sessions join the connection as members; a set
/// or an atomic is made under its member's session, and revocations for a member's cache go the other way on the same
/// connection (see <see cref="DirectSessions"/>). A fill is made for its member's session too, on the page's turn or by
/// the call, once the session's cache holder is known here (see <see cref="SessionLeaseTable.HolderOf"/>): until a fill
/// call has named it, fills are refused, and the client calls.
/// </summary>
internal sealed class DirectSession(DirectTransport transport, LocalPages local, RegionLivenessCache regions, IGrainFactory grains, DirectSessions sessions,
    SessionLeaseTable leases, Metrics.SiloMetrics metrics)
{
    // A hello that does not come within this time ends the connection: an idle stranger holds no socket for long.
    internal static readonly TimeSpan HelloTimeout = TimeSpan.FromSeconds(10);

    // Revocations never number this many answers in one frame; a frame that says so is not from our client.
    private const int MostAnswers = 1 << 20;

    private readonly DirectOutbox _outbox = new(transport);
    private GrainReferences<IPageGrain>? _pages;
    private readonly ConcurrentDictionary<uint, TaskCompletionSource<bool[]>> _revoking = new();
    private uint _lastRevocation;
    private volatile bool _ended;
    // Requests answered after their receive was served (sets, atomics, fills, and gets the page's call answers).
    private int _underWay;
    // The members joined so far, by number; read and changed only by the receiving loop.
    private readonly Dictionary<ushort, DirectMember> _members = [];

    public async Task RunAsync(CancellationToken stopping)
    {
        var buffer = new byte[256 * DirectWire.RequestSize];
        using (var hello = CancellationTokenSource.CreateLinkedTokenSource(stopping))
        {
            hello.CancelAfter(HelloTimeout);
            if (!await ReceiveAtLeastAsync(buffer, 0, DirectWire.HelloSize, hello.Token) || !DirectWire.IsHello(buffer))
            {
                metrics.DirectConnectionRefused("hello");
                return;
            }
        }
        try
        {
            var filled = 0;
            while (true)
            {
                var received = await transport.ReceiveAsync(buffer.AsMemory(filled), stopping);
                if (received == 0) return;
                filled += received;
                var used = 0;
                // The gets answered here leave together, once this receive's requests are all served.
                _outbox.Cork();
                while (filled - used >= DirectWire.RequestSize)
                {
                    var frame = buffer.AsSpan(used, filled - used);
                    if ((DirectOperation)frame[4] != DirectOperation.Revoked)
                    {
                        Take(DirectRequest.ReadFrom(frame));
                        used += DirectWire.RequestSize;
                        continue;
                    }
                    var count = DirectRevocationAnswer.CountOf(frame);
                    if (count is < 0 or > MostAnswers) return;
                    var length = DirectWire.RequestSize + count;
                    if (frame.Length < length)
                    {
                        if (buffer.Length < length) Array.Resize(ref buffer, length);
                        break;
                    }
                    Answered(DirectRevocationAnswer.ReadFrom(frame));
                    used += length;
                }
                _outbox.Uncork();
                buffer.AsSpan(used, filled - used).CopyTo(buffer);
                filled -= used;
            }
        }
        finally
        {
            _ended = true;
            foreach (var member in _members.Values) sessions.Remove(member);
            foreach (var id in _revoking.Keys)
                if (_revoking.TryRemove(id, out var waiting)) waiting.TrySetException(new IOException("The direct connection closed before it answered a revocation."));
        }
    }

    /// <summary>
    /// Sends <paramref name="revocations"/> to <paramref name="member"/>'s cache over this connection; answers as
    /// <see cref="OrleansDsm.Caching.ICacheHolder.Revoke"/> does, or fails once the connection has closed.
    /// </summary>
    public Task<bool[]> RevokeAsync(DirectMember member, PageRevocation[] revocations)
    {
        var id = Interlocked.Increment(ref _lastRevocation);
        var waiting = new TaskCompletionSource<bool[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        _revoking[id] = waiting;
        _outbox.Send(new DirectRevocation(id, member.Number, revocations));
        // A connection that ended before the revocation was listed leaves it to nobody: it fails here instead.
        if (_ended && _revoking.TryRemove(id, out _)) waiting.TrySetException(new IOException($"The direct connection of session {member.Session} is closed."));
        return waiting.Task;
    }

    /// <summary>
    /// Holds back the frames queued from now (revocations, replies) until the matching <see cref="Uncork"/>, which sends
    /// them together; see <see cref="DirectOutbox.Cork"/>.
    /// </summary>
    public void Cork() => _outbox.Cork();

    /// <summary>Undoes one <see cref="Cork"/>, sending what it held back once none is left.</summary>
    public void Uncork() => _outbox.Uncork();

    /// <summary>Takes one frame of the client's, other than a revocation's answer: a join, a leave or a request.</summary>
    private void Take(DirectRequest request)
    {
        switch (request.Operation)
        {
            case DirectOperation.Join:
                Leave(request.Member);
                var member = new DirectMember(this, request.Member, request.JoiningSession);
                _members[request.Member] = member;
                sessions.Add(member);
                break;
            case DirectOperation.Leave:
                Leave(request.Member);
                break;
            default:
                Serve(request);
                break;
        }
    }

    private void Leave(ushort number)
    {
        if (_members.Remove(number, out var member)) sessions.Remove(member);
    }

    private void Answered(DirectRevocationAnswer answer)
    {
        if (_revoking.TryRemove(answer.Id, out var waiting)) waiting.TrySetResult(answer.Kept);
    }

    private async Task<bool> ReceiveAtLeastAsync(byte[] buffer, int start, int count, CancellationToken cancellation)
    {
        for (var filled = 0; filled < count;)
        {
            var received = await transport.ReceiveAsync(buffer.AsMemory(start + filled, count - filled), cancellation);
            if (received == 0) return false;
            filled += received;
        }
        return true;
    }

    private void Serve(DirectRequest request)
    {
        // Looked up once: the reply of a request for a page not active here says so, for the client to learn the
        // page's silo, connect to it and send the page's requests there.
        var here = local.Find(request.Page);
        switch (request.Operation)
        {
            case DirectOperation.Get when TryGetHere(request, here, out var value):
                // Counted before the reply leaves, so that a client that has its answer finds it counted.
                metrics.DirectRequestServed(OperationName(request.Operation));
                Send(new DirectReply(request.Id, DirectStatus.Done, value));
                break;
            case DirectOperation.Get:
                Interlocked.Increment(ref _underWay);
                _ = AnswerAsync(request, GetAsync(request, here is not null), elsewhere: here is null);
                break;
            case DirectOperation.Set or DirectOperation.Add or DirectOperation.Exchange or DirectOperation.CompareExchange
                when _members.TryGetValue(request.Member, out var member):
                Interlocked.Increment(ref _underWay);
                _ = AnswerAsync(request, MutateAsync(request, new RequestId(member.Session, request.Sequence), here), elsewhere: here is null);
                break;
            case DirectOperation.Fill when _members.TryGetValue(request.Member, out var member) && leases.HolderOf(member.Session) is { } holder:
                Interlocked.Increment(ref _underWay);
                _ = AnswerFillAsync(request, FillAsync(request, member.Session, holder, here), elsewhere: here is null);
                break;
            default:
                Send(new DirectReply(request.Id, DirectStatus.NotApplied, 0, Elsewhere: here is null));
                break;
        }
    }

    /// <summary>A fill, on the page's turn when it is active here (<paramref name="here"/>), or by the call the client would have made.</summary>
    private async Task<PageCopy> FillAsync(DirectRequest request, Guid session, ICacheHolder holder, PageGrain? here) =>
        (here is not null ? await here.TryFillHere(request.Epoch, session, holder) : null)
        ?? await Pages[request.Page].Fill(request.Epoch, session, holder);

    private async Task AnswerFillAsync(DirectRequest request, Task<PageCopy> fill, bool elsewhere)
    {
        IDirectFrame reply;
        try
        {
            reply = new DirectFillReply(request.Id, await fill, elsewhere);
            metrics.DirectRequestServed(OperationName(request.Operation));
        }
        catch (Exception)
        {
            // A fill changes nothing the client could see twice: whatever stopped it, the client's own call answers.
            reply = new DirectReply(request.Id, DirectStatus.NotApplied, 0);
        }
        Answer(reply);
    }

    private bool TryGetHere(DirectRequest request, PageGrain? here, out ulong value)
    {
        value = 0;
        if (here is not { } page) return false;
        try
        {
            var live = regions.RequireLive(request.Epoch, request.Page, CancellationToken.None);
            return live.IsCompletedSuccessfully && page.TryReadElementCommitted(request.Epoch, request.Offset, request.Size, out value);
        }
        catch (Exception error) when (error is ArgumentException or DsmException)
        {
            // The call gives the same error, and the client its own call's.
            return false;
        }
    }

    /// <summary>
    /// A get the receiving thread could not answer. When the page was active here and only the region's liveness was
    /// not known (the silo asks again once a lease has passed), it is read here once that answer comes, if the page
    /// is still here and would answer at once: many gets that arrive while the silo asks are not each made a call.
    /// </summary>
    private async Task<ElementUpdate> GetAsync(DirectRequest request, bool wasHere)
    {
        if (wasHere)
        {
            await regions.RequireLive(request.Epoch, request.Page, CancellationToken.None);
            if (local.Find(request.Page) is { } page && page.TryReadElementCommitted(request.Epoch, request.Offset, request.Size, out var value))
                return new(value, 0);
        }
        return new(await Pages[request.Page].ReadElement(request.Epoch, request.Offset, request.Size), 0);
    }

    /// <summary>A set or an atomic, on the page's turn when it is active here (<paramref name="here"/>), or by the call the client would have made.</summary>
    private async Task<ElementUpdate> MutateAsync(DirectRequest request, RequestId id, PageGrain? here)
    {
        var (epoch, offset, size, value) = (request.Epoch, request.Offset, request.Size, request.Value);
        var done = here is not { } page ? null : request.Operation switch
        {
            DirectOperation.Set => await page.TryWriteElementHere(epoch, id, offset, size, value) is { } version ? new ElementUpdate(0, version) : null,
            DirectOperation.Add => await page.TryAddHere(epoch, id, offset, request.Numeric, value),
            DirectOperation.Exchange => await page.TryExchangeHere(epoch, id, offset, size, value),
            _ => await page.TryCompareExchangeHere(epoch, id, offset, size, value, request.Comparand),
        };
        // A page that began to deactivate before the write applied wrote nothing: its next activation takes the call.
        return done ?? request.Operation switch
        {
            DirectOperation.Set => new ElementUpdate(0, await Pages[request.Page].WriteElement(epoch, id, offset, size, value)),
            DirectOperation.Add => await Pages[request.Page].Add(epoch, id, offset, request.Numeric, value),
            DirectOperation.Exchange => await Pages[request.Page].Exchange(epoch, id, offset, size, value),
            _ => await Pages[request.Page].CompareExchange(epoch, id, offset, size, value, request.Comparand),
        };
    }

    private async Task AnswerAsync(DirectRequest request, Task<ElementUpdate> work, bool elsewhere)
    {
        DirectReply reply;
        try
        {
            var done = await work;
            reply = new DirectReply(request.Id, DirectStatus.Done, done.Value, done.Version, Elsewhere: elsewhere);
            metrics.DirectRequestServed(OperationName(request.Operation));
        }
        catch (Exception error) when (error is ArgumentException or RegionFreedException or MemoryPressureException)
        {
            // Refused by a check that runs before anything applies.
            reply = new DirectReply(request.Id, DirectStatus.NotApplied, 0);
        }
        catch (Exception)
        {
            reply = new DirectReply(request.Id, DirectStatus.Unknown, 0);
        }
        Answer(reply);
    }

    /// <summary>Sends the reply of a request that was under way.</summary>
    private void Answer(IDirectFrame reply)
    {
        if (Interlocked.Decrement(ref _underWay) == 0)
        {
            _outbox.Send(reply);
            return;
        }
        // With others under way, answers that end about together (a page's turn ends several writes) leave in one send:
        // this one waits for a work item queued behind it, not for the others.
        _outbox.Cork();
        _outbox.Send(reply);
        ThreadPool.UnsafeQueueUserWorkItem(static outbox => outbox.Uncork(), _outbox, preferLocal: false);
    }

    private void Send(DirectReply reply) => _outbox.Send(reply);

    /// <summary>The metric tag of a request's kind, without an allocation a request.</summary>
    private static string OperationName(DirectOperation operation) => operation switch
    {
        DirectOperation.Get => "get",
        DirectOperation.Set => "set",
        DirectOperation.Add => "add",
        DirectOperation.Exchange => "exchange",
        DirectOperation.CompareExchange => "compare_exchange",
        DirectOperation.Fill => "fill",
        _ => "other",
    };

    // Made on the first call this connection forwards: most connections reach only pages active here.
    private GrainReferences<IPageGrain> Pages => _pages ??= new GrainReferences<IPageGrain>(grains);
}
