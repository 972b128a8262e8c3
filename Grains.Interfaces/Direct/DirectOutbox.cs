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
/// frame alone costs no thread hop. A send that fails closes the transport, which ends the connection's receiving side too.
/// </summary>
internal sealed class DirectOutbox(DirectTransport transport)
{
    private const int BytesPerSend = 4096;

    // A buffer grown for a frame larger than BytesPerSend is kept up to this size: a fill's reply of a 4 KiB page (the
    // default) is a little larger, and made a buffer for each fill, then a new small one, when none was kept.
    private const int LargestKept = 128 * 1024;

    private readonly ConcurrentQueue<IDirectFrame> _queue = new();
    private byte[] _buffer = new byte[BytesPerSend];
    private int _sending;

    private int _corked;

    public void Send(IDirectFrame frame)
    {
        _queue.Enqueue(frame);
        // Both sides fence (the queue's enqueue, and the decrement in Uncork): a frame queued while corked is either
        // seen by the uncorking thread or sends itself.
        if (Volatile.Read(ref _corked) == 0) Drain();
    }

    /// <summary>
    /// Sends <paramref name="frames"/> at once, in order, corked or not, and with them whatever the corks held back: in
    /// one send where they fit.
    /// </summary>
    public void SendNow(IReadOnlyList<IDirectFrame> frames)
    {
        foreach (var frame in frames) _queue.Enqueue(frame);
        Drain();
    }

    /// <summary>
    /// Holds back frames queued from now until the matching <see cref="Uncork"/>, which sends them together: a side
    /// that answers several requests of one receive in turn sends the answers in one send, not one each (each send
    /// wakes the other side, and on loopback carries the other side's receive too). Corks nest: frames go once every
    /// cork is undone. A send already under way goes on.
    /// </summary>
    public void Cork() => Interlocked.Increment(ref _corked);

    /// <summary>Undoes one <see cref="Cork"/>; with none left, sends what they held back, and lets later frames go as they come.</summary>
    public void Uncork()
    {
        if (Interlocked.Decrement(ref _corked) == 0 && !_queue.IsEmpty) Drain();
    }

    private void Drain()
    {
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
                    // A frame larger than the buffer gets a buffer of its size, kept for the next unless it is very large.
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
                    sent += await transport.SendAsync(_buffer.AsMemory(sent, filled - sent));
                if (_buffer.Length > LargestKept) _buffer = new byte[BytesPerSend];
            }
        }
        catch (Exception error) when (error is SocketException or IOException or ObjectDisposedException)
        {
            transport.Dispose();
        }
    }
}
