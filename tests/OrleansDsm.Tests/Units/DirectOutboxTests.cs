using System.Net;
using System.Net.Sockets;
using OrleansDsm.Direct;
using static OrleansDsm.Tests.Units.LoopbackSockets;

namespace OrleansDsm.Tests.Units;

/// <summary>
/// The direct channel's outbox sends frames in order, whole whatever their size, and holds back those queued while
/// corked until every cork is undone, but for a frame sent now.
/// </summary>
public sealed class DirectOutboxTests
{
    private sealed record Frame(byte Value, int Size = 1) : IDirectFrame
    {
        public int Length => Size;

        public void WriteTo(Span<byte> frame) => frame[..Size].Fill(Value);
    }

    [Fact]
    public async Task Frames_queued_while_corked_leave_only_when_uncorked_in_the_order_queued()
    {
        var (sending, receiving) = await ConnectedPairAsync();
        using (sending)
        using (receiving)
        {
            var outbox = new DirectOutbox(DirectTransport.Plain(sending));
            outbox.Send(new Frame(1));
            Assert.Equal([1], await ReceiveAsync(receiving, 1));

            outbox.Cork();
            outbox.Send(new Frame(2));
            outbox.Send(new Frame(3));
            await Task.Delay(200);
            Assert.Equal(0, receiving.Available);

            outbox.Uncork();
            Assert.Equal([2, 3], await ReceiveAsync(receiving, 2));
            outbox.Send(new Frame(4));
            Assert.Equal([4], await ReceiveAsync(receiving, 1));
        }
    }

    [Fact]
    public async Task Frames_queued_from_other_threads_while_corked_are_all_sent_by_the_uncork()
    {
        var (sending, receiving) = await ConnectedPairAsync();
        using (sending)
        using (receiving)
        {
            var outbox = new DirectOutbox(DirectTransport.Plain(sending));
            outbox.Cork();
            await Task.WhenAll(Enumerable.Range(0, 100).Select(i => Task.Run(() => outbox.Send(new Frame((byte)i)))));
            outbox.Uncork();
            Assert.Equal(Enumerable.Range(0, 100).Select(i => (byte)i), (await ReceiveAsync(receiving, 100)).Order());
        }
    }

    [Fact]
    public async Task Corks_nest_and_a_frame_sent_now_takes_what_they_held_with_it()
    {
        var (sending, receiving) = await ConnectedPairAsync();
        using (sending)
        using (receiving)
        {
            var outbox = new DirectOutbox(DirectTransport.Plain(sending));
            outbox.Cork();
            outbox.Cork();
            outbox.Send(new Frame(1));
            outbox.Uncork();
            await Task.Delay(200);
            Assert.Equal(0, receiving.Available);

            // Still corked once: a frame sent now goes, and the held one before it.
            outbox.SendNow([new Frame(2)]);
            Assert.Equal([1, 2], await ReceiveAsync(receiving, 2));
            outbox.Send(new Frame(3));
            await Task.Delay(200);
            Assert.Equal(0, receiving.Available);
            outbox.Uncork();
            Assert.Equal([3], await ReceiveAsync(receiving, 1));
        }
    }

    [Fact]
    public async Task Frames_larger_than_a_send_leave_whole_and_in_order_among_small_ones()
    {
        var (sending, receiving) = await ConnectedPairAsync();
        using (sending)
        using (receiving)
        {
            var outbox = new DirectOutbox(DirectTransport.Plain(sending));
            // A fill's reply of a 4 KiB page, larger than one send's 4 KiB; then one larger than the buffer kept; then small ones.
            Frame[] frames = [new(1), new(2, 4200), new(3), new(4, 4200), new(5, 200_000), new(6, 4200), new(7)];
            outbox.Cork();
            foreach (var frame in frames) outbox.Send(frame);
            outbox.Uncork();
            var expected = frames.SelectMany(frame => Enumerable.Repeat(frame.Value, frame.Size)).ToArray();
            Assert.Equal(expected, await ReceiveAsync(receiving, expected.Length));
        }
    }
}
