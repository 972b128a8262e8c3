using System.Net;
using System.Net.Sockets;
using OrleansDsm.Caching;
using OrleansDsm.Direct;
using OrleansDsm.Grains.Caching;
using OrleansDsm.Grains.Direct;
using OrleansDsm.Grains.Pages;
using static OrleansDsm.Tests.Units.LoopbackSockets;

namespace OrleansDsm.Tests.Units;

public sealed class RevocationSenderTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Revocations_that_wait_for_a_sessions_call_go_together_in_order_and_each_gets_its_own_answer()
    {
        var holder = new ScriptedHolder();
        var sender = new RevocationSender();
        var session = Guid.NewGuid();

        var first = Send(sender, session, holder, 1);
        var second = Send(sender, session, holder, 2);
        var third = Send(sender, session, holder, 3);
        await holder.CallCount(1);
        var elsewhere = Send(sender, Guid.NewGuid(), holder, 9); // another session: its own call

        await holder.CallCount(2);
        Assert.Equal("1 | 9", holder.Pages());
        Assert.False(second.IsCompleted, "a revocation waits while its session's call is in flight");
        holder.Answer(0, [true]);
        holder.Answer(1, [false]);
        Assert.True(await first);
        Assert.False(await elsewhere);

        await holder.CallCount(3);
        Assert.Equal("1 | 9 | 2, 3", holder.Pages());
        holder.Answer(2, [false, true]);
        Assert.Equal((false, true), (await second, await third));
    }

    [Fact]
    public async Task A_failed_call_fails_every_revocation_it_carried_and_the_next_ones_go_in_a_new_call()
    {
        var holder = new ScriptedHolder();
        var sender = new RevocationSender();
        var session = Guid.NewGuid();

        var lost = Send(sender, session, holder, 1);
        var waiting = Send(sender, session, holder, 2);
        await holder.CallCount(1);
        holder.Fail(0, new TimeoutException("the client did not answer"));
        await Assert.ThrowsAsync<TimeoutException>(() => lost);

        await holder.CallCount(2);
        holder.Answer(1, [true]);
        Assert.True(await waiting);
    }

    [Fact]
    public async Task A_call_never_answered_holds_up_the_next_revocations_no_longer_than_its_patience()
    {
        var holder = new ScriptedHolder();
        var sender = new RevocationSender();
        var session = Guid.NewGuid();

        _ = sender.Send(session, holder, [Revocation(1)], TimeSpan.FromMilliseconds(100)); // its page gives up on it by itself
        var next = Send(sender, session, holder, 2);
        await holder.CallCount(2);
        Assert.Equal("1 | 2", holder.Pages());
        holder.Answer(1, [true]);
        Assert.True(await next);
    }

    [Fact]
    public async Task A_call_that_cannot_be_made_fails_its_revocation_and_leaves_the_session_free_for_the_next()
    {
        var holder = new ScriptedHolder { RefuseNextCall = true };
        var sender = new RevocationSender();
        var session = Guid.NewGuid();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => Send(sender, session, holder, 1));
        var next = Send(sender, session, holder, 2);
        await holder.CallCount(1);
        holder.Answer(0, [true]);
        Assert.True(await next);
    }

    [Fact]
    public async Task Every_call_goes_from_the_thread_pool_never_from_the_turn_of_the_page_that_sends()
    {
        // A page's turn runs on its activation's scheduler; a call made there would name the page as its caller, and
        // Orleans' gateway sends a client's answer to wherever the page lives when it comes back.
        var holder = new ScriptedHolder();
        var sender = new RevocationSender();
        var session = Guid.NewGuid();
        var turn = new ConcurrentExclusiveSchedulerPair().ExclusiveScheduler;

        var (first, second) = await Task.Factory.StartNew(() => (Send(sender, session, holder, 1), Send(sender, session, holder, 2)),
            CancellationToken.None, TaskCreationOptions.None, turn);
        await holder.CallCount(1);
        holder.Answer(0, [true]);
        await holder.CallCount(2);
        holder.Answer(1, [true]);

        Assert.True(await first && await second);
        Assert.Equal([TaskScheduler.Default, TaskScheduler.Default], holder.Schedulers());
    }

    [Fact]
    public async Task Revocations_over_a_sessions_direct_connection_go_at_once_without_waiting_for_its_earlier_ones()
    {
        var (silo, client) = await ConnectedPairAsync();
        using (silo)
        using (client)
        {
            var sessions = new DirectSessions();
            var connection = new DirectSession(new CountingTransport(silo), new LocalPages(), null!, null!, sessions, null!, null!);
            var session = Guid.NewGuid();
            sessions.Add(new DirectMember(connection, 3, session));
            var sender = new RevocationSender(sessions);
            var holder = new ScriptedHolder();

            // Neither is answered: the second goes while the first is still in flight, each in a frame of its own.
            var (first, firstLast) = sender.Send(session, holder, [Revocation(1)], Patience);
            var (second, secondLast) = sender.Send(session, holder, [Revocation(2), Revocation(3)], Patience);

            var frames = await ReceiveFramesAsync(client, 2);
            Assert.Equal(["3: 1", "3: 2, 3"], frames.Select(frame => $"{frame.Member}: {string.Join(", ", frame.Revocations.Select(r => r.Page))}"));
            Assert.Equal((0, 1), (firstLast, secondLast));
            Assert.False(first.IsCompleted || second.IsCompleted);
            Assert.Equal("", holder.Pages()); // no observer call
        }
    }

    [Fact]
    public async Task A_pages_revocations_for_the_sessions_of_one_direct_connection_leave_in_one_send()
    {
        var (silo, client) = await ConnectedPairAsync();
        using (silo)
        using (client)
        {
            var sessions = new DirectSessions();
            var transport = new CountingTransport(silo);
            var connection = new DirectSession(transport, new LocalPages(), null!, null!, sessions, null!, null!);
            var (one, two) = (Guid.NewGuid(), Guid.NewGuid());
            sessions.Add(new DirectMember(connection, 0, one));
            sessions.Add(new DirectMember(connection, 1, two));
            var sender = new RevocationSender(sessions);
            var holder = new ScriptedHolder();

            var sent = sender.SendAll([new(one, holder, [Revocation(5)], Patience), new(two, holder, [Revocation(5)], Patience)]);

            var frames = await ReceiveFramesAsync(client, 2);
            Assert.Equal([(ushort)0, (ushort)1], frames.Select(frame => frame.Member));
            Assert.Equal(1, transport.Sends);
            Assert.Equal([0, 0], sent.Select(call => call.Last));
        }
    }

    /// <summary>A silo's end of a direct connection that counts its sends.</summary>
    private sealed class CountingTransport(Socket socket) : DirectTransport
    {
        private int _sends;

        public int Sends => Volatile.Read(ref _sends);

        public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellation = default) => socket.ReceiveAsync(buffer, SocketFlags.None, cancellation);

        public override ValueTask<int> SendAsync(ReadOnlyMemory<byte> bytes)
        {
            Interlocked.Increment(ref _sends);
            return socket.SendAsync(bytes, SocketFlags.None);
        }

        public override int Receive(Span<byte> buffer) => socket.Receive(buffer, SocketFlags.None);

        public override void Dispose() => socket.Dispose();
    }

    /// <summary>Reads <paramref name="count"/> revocation frames as the client's end receives them.</summary>
    private static async Task<DirectRevocation[]> ReceiveFramesAsync(Socket socket, int count)
    {
        var frames = new DirectRevocation[count];
        for (var i = 0; i < count; i++)
        {
            var header = await ReceiveAsync(socket, DirectWire.ReplySize);
            var body = await ReceiveAsync(socket, DirectWire.BodyLengthOf(header));
            frames[i] = DirectRevocation.ReadFrom([.. header, .. body]);
        }
        return frames;
    }

    /// <summary>Sends a revocation of <paramref name="page"/> and gives its own answer, as a page takes it.</summary>
    private static async Task<bool> Send(RevocationSender sender, Guid session, ICacheHolder holder, long page)
    {
        var (answers, index) = sender.Send(session, holder, [Revocation(page)], Patience);
        return (await answers)[index];
    }

    private static PageRevocation Revocation(long page) => new(page, 7, 0, 8, null);

    /// <summary>A session's cache whose calls are answered, or failed, by the test, one by one.</summary>
    private sealed class ScriptedHolder : ICacheHolder
    {
        private readonly List<Call> _calls = [];

        /// <summary>The task scheduler each call was made on.</summary>
        public TaskScheduler[] Schedulers()
        {
            lock (_calls) return [.. _calls.Select(call => call.Scheduler)];
        }

        /// <summary>The pages each call revoked, calls apart by " | ".</summary>
        public string Pages()
        {
            lock (_calls) return string.Join(" | ", _calls.Select(call => string.Join(", ", call.Revocations.Select(revocation => revocation.Page))));
        }

        /// <summary>Makes the next call throw before it is sent, as a reference to a stopped runtime does.</summary>
        public bool RefuseNextCall { get; set; }

        public Task<bool[]> Revoke(PageRevocation[] revocations)
        {
            if (RefuseNextCall)
            {
                RefuseNextCall = false;
                throw new ObjectDisposedException("the cluster client");
            }
            var call = new Call(revocations, new TaskCompletionSource<bool[]>(), TaskScheduler.Current);
            lock (_calls) _calls.Add(call);
            return call.Answer.Task;
        }

        public void Answer(int call, bool[] kept) => Answer(call).SetResult(kept);

        public void Fail(int call, Exception error) => Answer(call).SetException(error);

        /// <summary>Waits, up to 10 s, until <paramref name="count"/> calls have come (they go from the thread pool).</summary>
        public async Task CallCount(int count)
        {
            for (var waited = 0; waited < 1000; waited++)
            {
                lock (_calls)
                    if (_calls.Count >= count) return;
                await Task.Delay(10);
            }
            throw new TimeoutException($"only {_calls.Count} of {count} calls came");
        }

        private TaskCompletionSource<bool[]> Answer(int call)
        {
            lock (_calls) return _calls[call].Answer;
        }

        private sealed record Call(PageRevocation[] Revocations, TaskCompletionSource<bool[]> Answer, TaskScheduler Scheduler);
    }
}
