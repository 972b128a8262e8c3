using System.Collections.Concurrent;
using System.Net.Sockets;

namespace OrleansDsm.Direct;

/// <summary>A fixed-size frame of the direct channel.</summary>
internal interface IDirectFrame
{
    static abstract int Size { get; }

    void WriteTo(Span<byte> frame);
}

/// <summary>
/// Sends the frames of one side of a direct connection. Frames queued from any thread go out in order; the first
/// thread to find no send under way sends, on its own turn, what is queued by then, many frames to a send, so one
/// frame alone costs no thread hop. A send that fails closes the socket, which ends the connection's receiving side too.
/// </summary>
internal sealed class DirectOutbox<TFrame>(Socket socket) where TFrame : struct, IDirectFrame
{
    private const int FramesPerSend = 64;

    private readonly ConcurrentQueue<TFrame> _queue = new();
    private readonly byte[] _buffer = new byte[FramesPerSend * TFrame.Size];
    private int _sending;

    public void Send(TFrame frame)
    {
        _queue.Enqueue(frame);
        if (Interlocked.CompareExchange(ref _sending, 1, 0) == 0) _ = DrainAsync();
    }

    private async Task DrainAsync()
    {
        try
        {
            while (true)
            {
                var count = 0;
                while (count < FramesPerSend && _queue.TryDequeue(out var frame))
                    frame.WriteTo(_buffer.AsSpan(count++ * TFrame.Size));
                if (count == 0)
                {
                    Volatile.Write(ref _sending, 0);
                    // A frame queued after the queue looked empty, but before the flag was down, is sent by this thread.
                    if (_queue.IsEmpty || Interlocked.CompareExchange(ref _sending, 1, 0) != 0) return;
                    continue;
                }
                for (var sent = 0; sent < count * TFrame.Size;)
                    sent += await socket.SendAsync(_buffer.AsMemory(sent, count * TFrame.Size - sent), SocketFlags.None);
            }
        }
        catch (Exception error) when (error is SocketException or ObjectDisposedException)
        {
            socket.Dispose();
        }
    }
}
