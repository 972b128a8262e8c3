using System.Collections.Concurrent;
using System.Net.Sockets;

namespace OrleansDsm.Direct;

/// <summary>A frame of the direct channel.</summary>
internal interface IDirectFrame
{
    /// <summary>Its length in bytes, header included.</summary>
    int Length { get; }

    void WriteTo(Span<byte> frame);
}

/// <summary>
/// Sends the frames of one side of a direct connection. Frames queued from any thread go out in order; the first
/// thread to find no send under way sends, on its own turn, what is queued by then, many frames to a send, so one
/// frame alone costs no thread hop. A send that fails closes the socket, which ends the connection's receiving side too.
/// </summary>
internal sealed class DirectOutbox(Socket socket)
{
    private const int BytesPerSend = 4096;

    private readonly ConcurrentQueue<IDirectFrame> _queue = new();
    private byte[] _buffer = new byte[BytesPerSend];
    private int _sending;

    public void Send(IDirectFrame frame)
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
                var filled = 0;
                while (filled < BytesPerSend && _queue.TryPeek(out var frame) && (filled == 0 || filled + frame.Length <= _buffer.Length))
                {
                    _queue.TryDequeue(out _);
                    // A frame larger than the buffer gets a buffer of its size, then the usual one again.
                    if (frame.Length > _buffer.Length) _buffer = new byte[frame.Length];
                    frame.WriteTo(_buffer.AsSpan(filled));
                    filled += frame.Length;
                }
                if (filled == 0)
                {
                    Volatile.Write(ref _sending, 0);
                    // A frame queued after the queue looked empty, but before the flag was down, is sent by this thread.
                    if (_queue.IsEmpty || Interlocked.CompareExchange(ref _sending, 1, 0) != 0) return;
                    continue;
                }
                for (var sent = 0; sent < filled;)
                    sent += await socket.SendAsync(_buffer.AsMemory(sent, filled - sent), SocketFlags.None);
                if (_buffer.Length > BytesPerSend) _buffer = new byte[BytesPerSend];
            }
        }
        catch (Exception error) when (error is SocketException or ObjectDisposedException)
        {
            socket.Dispose();
        }
    }
}
