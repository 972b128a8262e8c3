using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace OrleansDsm.Networking;

/// <summary>
/// One TCP connection for Orleans' messaging: a pipe in each direction and a loop that moves bytes between each pipe and
/// the socket. It differs from Orleans' own socket connection in two things: where Orleans' message reader runs (on the
/// receiving thread; see the constructor), and the size of a receive. Orleans reads into one 4 KiB pool block at a
/// time, so a 64 KiB message costs sixteen receives, each a socket call, a pipe flush and a wake-up of the message
/// reader: six 64 MiB range writes took about 200,000 receives, against 8,700 here, where a receive fills up to
/// <see cref="LargestReceiveBytes"/>. A bare grain returning 64 MiB in batches moved 1,300-1,470 MB/s through it,
/// against 460-500 through Orleans' transport (measured while every receive could take 64 KiB; the adaptive size below
/// showed no difference beyond the noise).
/// <para>A receive asks for 64 KiB only when the one before filled all the room it had, so only a connection that
/// streams holds buffers that large. After a receive that left room (the socket was drained), the next one waits for
/// data with an empty read first, as Orleans' does before every receive, so an idle connection holds no buffer,
/// and then asks for 4 KiB, as much as Orleans' block.</para>
/// </summary>
internal sealed class SocketConnection : ConnectionContext, IConnectionEndPointFeature, IConnectionLifetimeFeature
{
    /// <summary>The most bytes one receive takes: the room it asks for once the one before filled all it had.</summary>
    internal const int LargestReceiveBytes = 64 * 1024;

    // The room a receive asks for after the socket was drained, as Orleans' 4 KiB blocks: a connection that carries
    // small messages so holds no more than Orleans' would, and one that streams grows its receives at once.
    private const int LeastReceiveBytes = 4096;

    private readonly Socket _socket;
    private readonly Pipe _received;
    private readonly Pipe _toSend;
    private readonly CancellationTokenSource _closed = new();
    private readonly Lock _shutdownLock = new();
    private bool _socketDisposed;
    private Exception? _shutdownReason;
    private Task _running = Task.CompletedTask;

    private SocketConnection(Socket socket)
    {
        _socket = socket;
        LocalEndPoint = socket.LocalEndPoint;
        RemoteEndPoint = socket.RemoteEndPoint;
        // No pause threshold, as Orleans has none: a message larger than the threshold would never be read whole.
        // Orleans' message reader runs on the receiving thread, as soon as a receive is flushed, instead of being woken
        // on the thread pool: a thread hop fewer per receive, which cut the processor time of an uncached call in both
        // processes by about a tenth. It only decodes and dispatches (replies resume their callers on the thread pool,
        // observer calls are queued to it, grain calls to their activations), so no app code runs on this thread.
        // The send pipe's reader stays on the thread pool: sending inline from the flushing thread cut median call
        // latency by about 5%, but cost a quarter to a half of the throughput at 16 and 256 outstanding calls: each
        // flush became a send of its own instead of several flushes going out in one.
        _received = new Pipe(new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.ThreadPool,
            pauseWriterThreshold: 0, minimumSegmentSize: LeastReceiveBytes, useSynchronizationContext: false));
        _toSend = new Pipe(new PipeOptions(readerScheduler: PipeScheduler.ThreadPool, writerScheduler: PipeScheduler.ThreadPool,
            pauseWriterThreshold: 0, minimumSegmentSize: LeastReceiveBytes, useSynchronizationContext: false));
        Transport = new Duplex(_received.Reader, _toSend.Writer);
        ConnectionClosed = _closed.Token;
        Features.Set<IConnectionEndPointFeature>(this);
        Features.Set<IConnectionLifetimeFeature>(this);
    }

    /// <summary>Takes over a connected socket and starts moving its bytes.</summary>
    public static SocketConnection Start(Socket socket)
    {
        var connection = new SocketConnection(socket);
        connection._running = connection.RunAsync();
        return connection;
    }

    public override string ConnectionId { get; set; } = Guid.NewGuid().ToString("N");

    public override IFeatureCollection Features { get; } = new FeatureCollection();

    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

    public override IDuplexPipe Transport { get; set; }

    public override EndPoint? LocalEndPoint { get; set; }

    public override EndPoint? RemoteEndPoint { get; set; }

    public override CancellationToken ConnectionClosed { get; set; }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        Shutdown(abortReason);
        _toSend.Reader.CancelPendingRead();
    }

    public override async ValueTask DisposeAsync()
    {
        Transport.Input.Complete();
        Transport.Output.Complete();
        await _running;
        _closed.Dispose();
    }

    private async Task RunAsync()
    {
        // Neither loop may start on the caller's thread: it is Orleans' connection setup.
        await Task.Yield();
        var receiving = ReceiveAsync();
        var sending = SendAsync();
        await receiving;
        await sending;
    }

    private async Task ReceiveAsync()
    {
        Exception? error = null;
        var drained = true;
        try
        {
            while (true)
            {
                if (drained) await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
                var room = _received.Writer.GetMemory(drained ? LeastReceiveBytes : LargestReceiveBytes);
                var count = await _socket.ReceiveAsync(room, SocketFlags.None);
                if (count == 0) break; // the peer closed its side
                drained = count < room.Length;
                _received.Writer.Advance(count);
                var flushed = await _received.Writer.FlushAsync();
                if (flushed.IsCompleted || flushed.IsCanceled) break;
            }
        }
        catch (Exception exception)
        {
            error = AsConnectionError(exception);
        }
        finally
        {
            _received.Writer.Complete(Volatile.Read(ref _shutdownReason) ?? error);
            ThreadPool.UnsafeQueueUserWorkItem(static connection => connection.SignalClosed(), this, preferLocal: false);
        }
    }

    private async Task SendAsync()
    {
        Exception? error = null;
        List<ArraySegment<byte>>? gathered = null;
        try
        {
            while (true)
            {
                var result = await _toSend.Reader.ReadAsync();
                if (result.IsCanceled) break;
                var buffer = result.Buffer;
                if (buffer.IsSingleSegment) await _socket.SendAsync(buffer.First, SocketFlags.None);
                else if (!buffer.IsEmpty) await _socket.SendAsync(Gather(buffer, gathered ??= []), SocketFlags.None);
                _toSend.Reader.AdvanceTo(buffer.End);
                if (result.IsCompleted) break;
            }
        }
        catch (Exception exception)
        {
            error = AsConnectionError(exception);
        }
        finally
        {
            Shutdown(error);
            _toSend.Reader.Complete(error);
            _received.Writer.CancelPendingFlush();
        }
    }

    /// <summary>
    /// What a loop's failure ends its pipe with: a socket's error as Orleans' transport reports it, as a reset; any
    /// other (a socket disposed by an abort) as it is. Either way the connection closes and Orleans sees why.
    /// </summary>
    private static Exception AsConnectionError(Exception exception) =>
        exception is SocketException socket ? new ConnectionResetException(socket.Message, socket) : exception;

    /// <summary>The segments of <paramref name="buffer"/>, for one gathering send; the pipes' segments are arrays.</summary>
    private static List<ArraySegment<byte>> Gather(ReadOnlySequence<byte> buffer, List<ArraySegment<byte>> segments)
    {
        segments.Clear();
        foreach (var memory in buffer)
        {
            if (!MemoryMarshal.TryGetArray(memory, out var segment))
                throw new InvalidOperationException("A send buffer segment is not backed by an array.");
            segments.Add(segment);
        }
        return segments;
    }

    private void Shutdown(Exception? reason)
    {
        lock (_shutdownLock)
        {
            if (_socketDisposed) return;
            _socketDisposed = true;
            _shutdownReason = reason ?? new ConnectionAbortedException("The connection's send loop ended.");
            try
            {
                _socket.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
                // Already reset by the peer: there is nothing left to shut down.
            }
            _socket.Dispose();
        }
    }

    private void SignalClosed()
    {
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposed already: nobody is left to tell.
        }
    }

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
