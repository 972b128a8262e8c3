using System.Net.Sockets;
using OrleansDsm.Direct;
using OrleansDsm.Errors;
using OrleansDsm.Grains.Pages;
using OrleansDsm.Grains.Regions;
using OrleansDsm.Pages;

namespace OrleansDsm.Grains.Direct;

/// <summary>
/// Serves one direct connection. A get of a page active here reads its committed image on the receiving thread, as a
/// range read does (see <see cref="LocalPages"/>); a set of a page active here runs on the page's turn without a call
/// (see <see cref="PageGrain.TryWriteElementHere"/>); a page active elsewhere, or one that would make the read wait,
/// is reached by the Orleans call the client would have made, from this silo. Replies go out as requests end, in any
/// order, several to a send when they end together.
/// </summary>
internal sealed class DirectSession(Socket socket, LocalPages local, RegionLivenessCache regions, IGrainFactory grains)
{
    // A hello that does not come within this time ends the connection: an idle stranger holds no socket for long.
    private static readonly TimeSpan HelloTimeout = TimeSpan.FromSeconds(10);

    private readonly DirectOutbox<DirectReply> _outbox = new(socket);
    private Guid _session;

    public async Task RunAsync(CancellationToken stopping)
    {
        var buffer = new byte[256 * DirectWire.RequestSize];
        using (var hello = CancellationTokenSource.CreateLinkedTokenSource(stopping))
        {
            hello.CancelAfter(HelloTimeout);
            if (!await ReceiveAtLeastAsync(buffer, 0, DirectWire.HelloSize, hello.Token) || DirectWire.ReadHello(buffer) is not { } session) return;
            _session = session;
        }
        var filled = 0;
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, stopping);
            if (received == 0) return;
            filled += received;
            var used = 0;
            for (; filled - used >= DirectWire.RequestSize; used += DirectWire.RequestSize)
                Serve(DirectRequest.ReadFrom(buffer.AsSpan(used)));
            buffer.AsSpan(used, filled - used).CopyTo(buffer);
            filled -= used;
        }
    }

    private async Task<bool> ReceiveAtLeastAsync(byte[] buffer, int start, int count, CancellationToken cancellation)
    {
        for (var filled = 0; filled < count;)
        {
            var received = await socket.ReceiveAsync(buffer.AsMemory(start + filled, count - filled), SocketFlags.None, cancellation);
            if (received == 0) return false;
            filled += received;
        }
        return true;
    }

    private void Serve(DirectRequest request)
    {
        switch (request.Operation)
        {
            case DirectOperation.Get when TryGetHere(request, out var value):
                Send(new DirectReply(request.Id, DirectStatus.Done, value));
                break;
            case DirectOperation.Get:
                _ = AnswerAsync(request, GetByCallAsync(request));
                break;
            case DirectOperation.Set:
                _ = AnswerAsync(request, SetAsync(request));
                break;
            default:
                Send(new DirectReply(request.Id, DirectStatus.NotApplied, 0));
                break;
        }
    }

    private bool TryGetHere(DirectRequest request, out ulong value)
    {
        value = 0;
        if (local.Find(request.Page) is not { } page) return false;
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

    private async Task<ulong> GetByCallAsync(DirectRequest request) =>
        await grains.GetGrain<IPageGrain>(request.Page).ReadElement(request.Epoch, request.Offset, request.Size);

    private async Task<ulong> SetAsync(DirectRequest request)
    {
        var id = new RequestId(_session, request.Sequence);
        var written = local.Find(request.Page) is { } page ? await page.TryWriteElementHere(request.Epoch, id, request.Offset, request.Size, request.Value) : null;
        // A page that began to deactivate before the write applied wrote nothing: its next activation takes the call.
        return (ulong)(written ?? await grains.GetGrain<IPageGrain>(request.Page).WriteElement(request.Epoch, id, request.Offset, request.Size, request.Value));
    }

    private async Task AnswerAsync(DirectRequest request, Task<ulong> work)
    {
        DirectReply reply;
        try
        {
            reply = new DirectReply(request.Id, DirectStatus.Done, await work);
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
        Send(reply);
    }

    private void Send(DirectReply reply) => _outbox.Send(reply);
}
