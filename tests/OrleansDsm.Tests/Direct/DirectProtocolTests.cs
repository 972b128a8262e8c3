using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using OrleansDsm.Caching;
using OrleansDsm.Direct;
using OrleansDsm.Grains.Direct;
using OrleansDsm.Pages;
using OrleansDsm.Regions;

namespace OrleansDsm.Tests.Direct;

/// <summary>
/// The direct channel's wire, driven by hand: a silo closes a connection that does not open with the hello, refuses
/// a request it cannot serve without changing anything, and a client's connection ends every request waiting on it
/// when the silo goes quiet or away, and answers revocations on a thread of its own.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class DirectProtocolTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_connection_that_does_not_open_with_the_hello_is_closed_by_the_silo()
    {
        using var socket = await ConnectAsync();
        await socket.SendAsync(new byte[DirectWire.HelloSize].Select((_, i) => (byte)i).ToArray(), SocketFlags.None);

        var received = await socket.ReceiveAsync(new byte[16], SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, received);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task A_hello_of_an_earlier_wire_version_is_refused_by_the_silo(int version)
    {
        using var socket = await ConnectAsync();
        // An earlier version's hello (version 1's carried a session), then a get of that version's 48 bytes: the silo
        // must not read them as frames of its own version.
        var helloSize = version == 1 ? 24 : 8;
        var hello = new byte[helloSize + 48];
        DirectWire.WriteHello(hello);
        BitConverter.TryWriteBytes(hello.AsSpan(4), version);
        if (version == 1) Guid.NewGuid().TryWriteBytes(hello.AsSpan(8));
        var get = new byte[DirectWire.RequestSize];
        new DirectRequest(1, DirectOperation.Get, 8, 1, 1, 0, 0, 0).WriteTo(get);
        get.AsSpan(0, 48).CopyTo(hello.AsSpan(helloSize));
        await socket.SendAsync(hello, SocketFlags.None);

        // Closed with the get unread, the connection may end in a reset rather than an orderly close.
        try
        {
            Assert.Equal(0, await socket.ReceiveAsync(new byte[DirectWire.ReplySize], SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(10)));
        }
        catch (SocketException error) when (error.SocketErrorCode == SocketError.ConnectionReset)
        {
        }
    }

    [Fact]
    public async Task A_request_the_silo_cannot_serve_is_refused_as_not_applied_and_changes_nothing()
    {
        var array = await fixture.Client.AllocateAsync<long>(UniqueNames.For("direct-refused"), 512, Consistency.Uncached);
        await array.SetAsync(2, 22);
        using var socket = await ConnectAsync();
        // Members 1 and 3 join; 3 leaves.
        var hello = new byte[DirectWire.HelloSize + 3 * DirectWire.RequestSize];
        DirectWire.WriteHello(hello);
        DirectRequest.Join(1, Guid.NewGuid()).WriteTo(hello.AsSpan(DirectWire.HelloSize));
        DirectRequest.Join(3, Guid.NewGuid()).WriteTo(hello.AsSpan(DirectWire.HelloSize + DirectWire.RequestSize));
        new DirectRequest(0, DirectOperation.Leave, 0, 0, 0, 0, 0, 0, 3).WriteTo(hello.AsSpan(DirectWire.HelloSize + 2 * DirectWire.RequestSize));
        await socket.SendAsync(hello, SocketFlags.None);
        var (page, epoch) = (array.Region.FirstPage, array.Region.Epoch);

        DirectRequest[] refused =
        [
            new(1, DirectOperation.Set, 3, epoch, page, 16, 77, 1, 1),      // no element has 3 bytes
            new(2, DirectOperation.Set, 8, epoch, page, 12, 77, 2, 1),      // not aligned to its size
            new(3, DirectOperation.Set, 8, epoch, page, 4096, 77, 3, 1),    // outside the page
            new(5, (DirectOperation)200, 8, epoch, page, 16, 77, 5, 1),     // no such operation
            new(6, DirectOperation.Get, 3, epoch, page, 16, 0, 0, 1),
            new(7, DirectOperation.Set, 8, epoch, page, 16, 77, 7, 2),      // a member that never joined: no session to write under
            new(8, DirectOperation.Set, 8, epoch, page, 16, 77, 8, 3),      // a member that left
            new(9, DirectOperation.Add, 8, epoch, page, 16, 77, 9, 1, (NumericKind)99),                // no such numeric kind
            new(10, DirectOperation.Add, 8, epoch, page, 4096, 77, 10, 1, NumericKind.Int64),         // outside the page
            new(11, DirectOperation.Add, 8, epoch, page, 16, 77, 11, 2, NumericKind.Int64),           // a member that never joined
            new(12, DirectOperation.Exchange, 3, epoch, page, 16, 77, 12, 1),                          // no element has 3 bytes
            new(13, DirectOperation.CompareExchange, 8, epoch, page, 12, 77, 13, 1, Comparand: 22),    // not aligned to its size
            new(14, DirectOperation.CompareExchange, 8, epoch, page, 16, 77, 14, 3, Comparand: 0),     // a member that left
            new(15, DirectOperation.Fill, 0, epoch, page, 0, 0, 0, 1),     // a session whose cache no fill call has named here
            new(16, DirectOperation.Fill, 0, epoch, page, 0, 0, 0, 2),     // a member that never joined
        ];
        var frames = new byte[refused.Length * DirectWire.RequestSize];
        for (var i = 0; i < refused.Length; i++) refused[i].WriteTo(frames.AsSpan(i * DirectWire.RequestSize));
        await socket.SendAsync(frames, SocketFlags.None);

        var replies = await ReceiveRepliesAsync(socket, refused.Length);
        Assert.All(replies, reply => Assert.Equal(DirectStatus.NotApplied, reply.Status));
        Assert.Equal(refused.Select(r => r.Id).Order(), replies.Select(r => r.Id).Order());
        var contents = new long[512];
        await array.ReadAsync(0, contents);
        Assert.Equal(Enumerable.Range(0, 512).Select(i => i == 2 ? 22L : 0L), contents);
        // The refused fills recorded no holder.
        Assert.Equal(0, (await fixture.Cluster.Client.GetGrain<IPageGrain>(page).GetState()).CacheHolders);
    }

    [Fact]
    public async Task A_silo_that_goes_quiet_ends_the_requests_waiting_on_it_as_unknown_and_the_connection_closes()
    {
        using var standIn = await StandIn.ConnectAsync(TimeSpan.FromMilliseconds(300));
        var connection = standIn.Connection;

        var reply = await connection.SendAsync(new DirectRequest(0, DirectOperation.Get, 8, 1, 1, 0, 0, 0)).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(DirectStatus.Unknown, reply.Status);
        Assert.False(connection.IsOpen);
        // Later requests on a closed connection end at once.
        Assert.Equal(DirectStatus.Unknown, (await connection.SendAsync(new DirectRequest(0, DirectOperation.Get, 8, 1, 1, 0, 0, 0)).WaitAsync(TimeSpan.FromSeconds(1))).Status);
    }

    [Fact]
    public async Task A_silo_that_closes_the_connection_ends_the_requests_waiting_on_it_as_unknown()
    {
        using var standIn = await StandIn.ConnectAsync(TimeSpan.FromSeconds(30));
        var connection = standIn.Connection;

        var waiting = connection.SendAsync(new DirectRequest(0, DirectOperation.Set, 8, 1, 1, 0, 5, 1));
        standIn.Accepted.Dispose();

        Assert.Equal(DirectStatus.Unknown, (await waiting.WaitAsync(TimeSpan.FromSeconds(10))).Status);
        Assert.False(connection.IsOpen);
    }

    [Fact]
    public async Task A_reply_that_arrived_just_before_a_frame_the_client_cannot_read_is_still_delivered_and_the_connection_closes()
    {
        using var standIn = await StandIn.ConnectAsync(TimeSpan.FromSeconds(30));
        var waiting = standIn.Connection.SendAsync(new DirectRequest(0, DirectOperation.Get, 8, 1, 1, 0, 0, 0));
        var hello = new byte[DirectWire.HelloSize + DirectWire.RequestSize];
        for (var filled = 0; filled < hello.Length;) filled += await standIn.Accepted.ReceiveAsync(hello.AsMemory(filled), SocketFlags.None);
        var id = DirectRequest.ReadFrom(hello.AsSpan(DirectWire.HelloSize)).Id;

        // The reply, then a revocation header whose body is too short to hold even its count, in one send.
        var frames = new byte[2 * DirectWire.ReplySize];
        new DirectReply(id, DirectStatus.Done, 7).WriteTo(frames);
        frames[DirectWire.ReplySize + 5] = DirectRevocation.Kind;
        BitConverter.TryWriteBytes(frames.AsSpan(DirectWire.ReplySize + 8), 2);
        await standIn.Accepted.SendAsync(frames, SocketFlags.None);

        var reply = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((DirectStatus.Done, 7UL), (reply.Status, reply.Value));
        Assert.False(standIn.Connection.IsOpen);
    }

    [Fact]
    public async Task A_caller_that_blocks_where_its_reply_resumed_it_holds_back_no_request_sent_meanwhile()
    {
        using var standIn = await StandIn.ConnectAsync(TimeSpan.FromSeconds(30));
        var connection = standIn.Connection;
        var first = connection.SendAsync(new DirectRequest(0, DirectOperation.Get, 8, 1, 1, 0, 0, 0));
        var second = connection.SendAsync(new DirectRequest(0, DirectOperation.Get, 8, 1, 1, 8, 0, 0));
        var sent = await ReceiveExactlyAsync(standIn.Accepted, DirectWire.HelloSize + 2 * DirectWire.RequestSize);
        var ids = new[] { 0, 1 }.Select(i => DirectRequest.ReadFrom(sent.AsSpan(DirectWire.HelloSize + i * DirectWire.RequestSize)).Id).ToArray();
        using var release = new ManualResetEventSlim();
        // The first reply of the pair resumes its caller on the thread pool, where it blocks.
        var blocked = first.ContinueWith(_ => release.Wait(TimeSpan.FromSeconds(30)), TaskContinuationOptions.ExecuteSynchronously);

        var replies = new byte[2 * DirectWire.ReplySize];
        new DirectReply(ids[0], DirectStatus.Done, 1).WriteTo(replies);
        new DirectReply(ids[1], DirectStatus.Done, 2).WriteTo(replies.AsSpan(DirectWire.ReplySize));
        await standIn.Accepted.SendAsync(replies, SocketFlags.None);
        Assert.Equal(2UL, (await second.WaitAsync(TimeSpan.FromSeconds(10))).Value);
        var third = connection.SendAsync(new DirectRequest(0, DirectOperation.Get, 8, 1, 1, 16, 0, 0));

        // The third request reaches the silo while the first caller still blocks.
        var id = DirectRequest.ReadFrom(await ReceiveExactlyAsync(standIn.Accepted, DirectWire.RequestSize)).Id;
        Assert.False(blocked.IsCompleted);
        release.Set();
        var reply = new byte[DirectWire.ReplySize];
        new DirectReply(id, DirectStatus.Done, 3).WriteTo(reply);
        await standIn.Accepted.SendAsync(reply, SocketFlags.None);
        Assert.Equal((1UL, 3UL), ((await first).Value, (await third.WaitAsync(TimeSpan.FromSeconds(10))).Value));
        await blocked;
    }

    [Fact]
    public async Task A_revocation_is_applied_and_answered_on_the_connections_own_thread_not_the_thread_pool()
    {
        var applied = new TaskCompletionSource<(bool OnPool, ushort Member, PageRevocation[] Revocations)>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var standIn = await StandIn.ConnectAsync(TimeSpan.FromSeconds(30), (member, revocations) =>
        {
            applied.TrySetResult((Thread.CurrentThread.IsThreadPoolThread, member, revocations));
            return [true, false];
        });
        await ReceiveExactlyAsync(standIn.Accepted, DirectWire.HelloSize);
        var revocation = new DirectRevocation(41, 3, [new PageRevocation(9, 4, 8, 8, [1, 2, 3, 4, 5, 6, 7, 8]), new PageRevocation(10, 2, 0, 0, null)]);
        var frame = new byte[revocation.Length];
        revocation.WriteTo(frame);
        await standIn.Accepted.SendAsync(frame, SocketFlags.None);

        // Applied off the thread pool: a client whose pool is starved (blocked callers, say) still answers, so a writer
        // elsewhere waits for no lease to run out.
        var (onPool, member, received) = await applied.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(onPool);
        Assert.Equal(3, member);
        Assert.Equal([(9L, 4L, 8, 8), (10L, 2L, 0, 0)], received.Select(r => (r.Page, r.Version, r.Offset, r.Length)));
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8], received[0].Bytes);
        var answer = DirectRevocationAnswer.ReadFrom(await ReceiveExactlyAsync(standIn.Accepted, DirectWire.RequestSize + 2));
        Assert.Equal(41u, answer.Id);
        Assert.Equal([true, false], answer.Kept);
    }

    [Fact]
    public async Task A_caller_that_asked_to_resume_on_the_receiving_thread_resumes_there_and_every_other_on_the_thread_pool()
    {
        using var standIn = await StandIn.ConnectAsync(TimeSpan.FromSeconds(30));
        var connection = standIn.Connection;
        // Fills, as the pager makes them (the only callers that ask): through FillAsync, which must keep the caller's choice,
        // also for a caller with a synchronization context (xunit gives a test one at times; this one posts to the pool).
        Task<(DirectReply Reply, PageCopy? Copy)> asked, plain;
        var context = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(new PostingToThePool());
        try
        {
            asked = connection.FillAsync(new DirectRequest(0, DirectOperation.Fill, 0, 1, 1, 0, 0, 0), resumeOnReceivingThread: true);
            plain = connection.FillAsync(new DirectRequest(0, DirectOperation.Fill, 0, 1, 2, 0, 0, 0));
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
        }
        static (bool OnPool, string? Name) Where() => (Thread.CurrentThread.IsThreadPoolThread, Thread.CurrentThread.Name);
        // Each continuation runs where its task's completion lets it: inline where the caller asked, else on the pool.
        var askedResumed = asked.ContinueWith(_ => Where(), TaskContinuationOptions.ExecuteSynchronously);
        var plainResumed = plain.ContinueWith(_ => Where(), TaskContinuationOptions.ExecuteSynchronously);
        var sent = await ReceiveExactlyAsync(standIn.Accepted, DirectWire.HelloSize + 2 * DirectWire.RequestSize);
        var ids = new[] { 0, 1 }.Select(i => DirectRequest.ReadFrom(sent.AsSpan(DirectWire.HelloSize + i * DirectWire.RequestSize)).Id).ToArray();

        var replies = new byte[2 * DirectWire.ReplySize];
        new DirectReply(ids[0], DirectStatus.Done, 1).WriteTo(replies);
        new DirectReply(ids[1], DirectStatus.Done, 2).WriteTo(replies.AsSpan(DirectWire.ReplySize));
        await standIn.Accepted.SendAsync(replies, SocketFlags.None);

        var (askedOnPool, askedThread) = await askedResumed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(askedOnPool);
        Assert.StartsWith("direct channel to 127.0.0.1:", askedThread);
        Assert.True((await plainResumed.WaitAsync(TimeSpan.FromSeconds(10))).OnPool);
        Assert.Equal((1UL, 2UL), ((await asked).Reply.Value, (await plain).Reply.Value));
    }

    /// <summary>A synchronization context of a type of its own, which awaits capture (the base type they ignore).</summary>
    private sealed class PostingToThePool : SynchronizationContext;

    [Fact]
    public async Task A_fill_returns_the_copy_its_reply_carries_and_none_beside_a_refusal()
    {
        using var standIn = await StandIn.ConnectAsync(TimeSpan.FromSeconds(30));
        var filled = standIn.Connection.FillAsync(new DirectRequest(0, DirectOperation.Fill, 0, 1, 1, 0, 0, 0));
        var refused = standIn.Connection.FillAsync(new DirectRequest(0, DirectOperation.Fill, 0, 1, 2, 0, 0, 0));
        var sent = await ReceiveExactlyAsync(standIn.Accepted, DirectWire.HelloSize + 2 * DirectWire.RequestSize);
        var ids = new[] { 0, 1 }.Select(i => DirectRequest.ReadFrom(sent.AsSpan(DirectWire.HelloSize + i * DirectWire.RequestSize)).Id).ToArray();

        var copy = new PageCopy(7, [1, 2, 3, 4, 5, 6, 7, 8], new LeaseGrant("10.200.0.7:11111@1", 3, 1000));
        var fill = new DirectFillReply(ids[0], copy, Elsewhere: true);
        var frames = new byte[fill.Length + DirectWire.ReplySize];
        fill.WriteTo(frames);
        new DirectReply(ids[1], DirectStatus.NotApplied, 0).WriteTo(frames.AsSpan(fill.Length));
        await standIn.Accepted.SendAsync(frames, SocketFlags.None);

        var (reply, received) = await filled.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((DirectStatus.Done, 7L, true), (reply.Status, reply.Version, reply.Elsewhere));
        Assert.NotNull(received);
        Assert.Equal((copy.Version, copy.Lease), (received.Version, received.Lease));
        Assert.Equal(copy.Bytes, received.Bytes);
        var (refusal, none) = await refused.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(DirectStatus.NotApplied, refusal.Status);
        Assert.Null(none);
    }

    private static async Task<byte[]> ReceiveExactlyAsync(Socket socket, int count)
    {
        var bytes = new byte[count];
        for (var filled = 0; filled < count;)
        {
            var received = await socket.ReceiveAsync(bytes.AsMemory(filled), SocketFlags.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.NotEqual(0, received);
            filled += received;
        }
        return bytes;
    }

    private async Task<Socket> ConnectAsync()
    {
        var endpoint = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<DirectListener>().Endpoint
            ?? throw new InvalidOperationException("The silo offers no direct channel.");
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Parse(endpoint.Address), endpoint.Port);
        return socket;
    }

    private static async Task<List<DirectReply>> ReceiveRepliesAsync(Socket socket, int count)
    {
        var buffer = new byte[count * DirectWire.ReplySize];
        for (var filled = 0; filled < buffer.Length;)
        {
            var received = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.NotEqual(0, received);
            filled += received;
        }
        return [.. Enumerable.Range(0, count).Select(i => DirectReply.ReadFrom(buffer.AsSpan(i * DirectWire.ReplySize)))];
    }
}

/// <summary>A client connection to a listener of the test's own standing in for a silo, which answers nothing, and that listener's end of it.</summary>
internal sealed record StandIn(TcpListener Listener, DirectConnection Connection, Socket Accepted) : IDisposable
{
    public static async Task<StandIn> ConnectAsync(TimeSpan responseTimeout, Func<ushort, PageRevocation[], bool[]?>? revoke = null)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepted = listener.AcceptSocketAsync();
        var endpoint = new DirectEndpoint("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port);
        var connection = await DirectConnection.OpenAsync(endpoint, TimeSpan.FromSeconds(5), responseTimeout, revoke);
        return new StandIn(listener, connection, await accepted);
    }

    public void Dispose()
    {
        Connection.Dispose();
        Accepted.Dispose();
        Listener.Dispose();
    }
}
