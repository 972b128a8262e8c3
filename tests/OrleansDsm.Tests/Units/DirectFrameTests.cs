using OrleansDsm.Caching;
using OrleansDsm.Direct;
using OrleansDsm.Pages;

namespace OrleansDsm.Tests.Units;

/// <summary>The direct channel's variable frames read back what was written, and a frame that lies about its contents is refused.</summary>
public sealed class DirectFrameTests
{
    [Fact]
    public void A_revocation_frame_reads_back_every_revocation_with_and_without_bytes()
    {
        PageRevocation[] revocations =
        [
            new(7, 12, 0, 0, null),
            new(8, 3, 100, 4, [1, 2, 3, 4], Continues: true),
            new(long.MaxValue, long.MaxValue, 4092, 4, []),
        ];
        var frame = new byte[new DirectRevocation(9, 65_000, revocations).Length];
        new DirectRevocation(9, 65_000, revocations).WriteTo(frame);

        Assert.Equal(DirectRevocation.Kind, frame[5]);
        Assert.Equal(frame.Length - DirectWire.ReplySize, DirectWire.BodyLengthOf(frame));
        var read = DirectRevocation.ReadFrom(frame);
        Assert.Equal((9u, (ushort)65_000), (read.Id, read.Member));
        Assert.Equal(revocations.Length, read.Revocations.Length);
        for (var i = 0; i < revocations.Length; i++)
        {
            Assert.Equal(revocations[i] with { Bytes = null }, read.Revocations[i] with { Bytes = null });
            Assert.Equal(revocations[i].Bytes, read.Revocations[i].Bytes);
        }
    }

    [Fact]
    public void A_revocation_frame_that_claims_more_than_it_holds_is_refused()
    {
        var frame = new byte[new DirectRevocation(1, 0, [new(1, 1, 0, 2, [5, 6])]).Length];
        new DirectRevocation(1, 0, [new(1, 1, 0, 2, [5, 6])]).WriteTo(frame);
        // The revocation's byte count, after the body's count (4) and the revocation's 25 fixed bytes before it.
        BitConverter.TryWriteBytes(frame.AsSpan(DirectWire.ReplySize + 4 + 25), 1000);
        Assert.Throws<InvalidDataException>(() => DirectRevocation.ReadFrom(frame));

        BitConverter.TryWriteBytes(frame.AsSpan(DirectWire.ReplySize), 1_000_000);
        Assert.Throws<InvalidDataException>(() => DirectRevocation.ReadFrom(frame));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_fill_reply_reads_back_the_copy_and_its_lease(bool zeros)
    {
        var copy = new PageCopy(zeros ? 0 : 41, zeros ? null : Enumerable.Range(0, 4096).Select(i => (byte)i).ToArray(), new LeaseGrant("10.200.0.7:11111@123456", 987_654_321, 1500));
        var reply = new DirectFillReply(77, copy);
        var frame = new byte[reply.Length + 5];
        reply.WriteTo(frame);

        Assert.Equal((DirectStatus.Done, DirectFillReply.Kind), ((DirectStatus)frame[4], frame[5]));
        Assert.Equal(reply.Length - DirectWire.ReplySize, DirectWire.BodyLengthOf(frame));
        var read = DirectFillReply.ReadFrom(frame);
        Assert.Equal(77u, read.Id);
        Assert.Equal((copy.Version, copy.Lease), (read.Copy.Version, read.Copy.Lease));
        Assert.Equal(copy.Bytes, read.Copy.Bytes);
    }

    [Fact]
    public void A_fill_reply_whose_lengths_disagree_with_its_body_is_refused()
    {
        var reply = new DirectFillReply(1, new PageCopy(3, [1, 2, 3, 4], new LeaseGrant("silo", 1, 1000)));
        var frame = new byte[reply.Length];
        reply.WriteTo(frame);
        var bytesCount = DirectWire.ReplySize + 22 + "silo".Length;

        // More page bytes than the body holds, then a negative count other than -1, then a silo name longer than the body.
        BitConverter.TryWriteBytes(frame.AsSpan(bytesCount), 5);
        Assert.Throws<InvalidDataException>(() => DirectFillReply.ReadFrom(frame));
        BitConverter.TryWriteBytes(frame.AsSpan(bytesCount), -2);
        Assert.Throws<InvalidDataException>(() => DirectFillReply.ReadFrom(frame));
        BitConverter.TryWriteBytes(frame.AsSpan(bytesCount), 4);
        BitConverter.TryWriteBytes(frame.AsSpan(DirectWire.ReplySize + 20), (ushort)200);
        Assert.Throws<InvalidDataException>(() => DirectFillReply.ReadFrom(frame));
        // A body too short for the fixed part.
        BitConverter.TryWriteBytes(frame.AsSpan(8), 10);
        Assert.Throws<InvalidDataException>(() => DirectFillReply.ReadFrom(frame));
    }

    [Fact]
    public void An_answer_frame_reads_back_its_answers()
    {
        var answer = new DirectRevocationAnswer(4, [true, false, true]);
        var frame = new byte[answer.Length];
        answer.WriteTo(frame);

        Assert.Equal((byte)DirectOperation.Revoked, frame[4]);
        Assert.Equal(3, DirectRevocationAnswer.CountOf(frame));
        var read = DirectRevocationAnswer.ReadFrom(frame);
        Assert.Equal(4u, read.Id);
        Assert.Equal([true, false, true], read.Kept);
    }

    [Fact]
    public void A_request_a_join_and_a_reply_read_back_every_field()
    {
        var request = new DirectRequest(uint.MaxValue, DirectOperation.CompareExchange, 8, 77, 1L << 40, 4088, ulong.MaxValue, 123, ushort.MaxValue,
            NumericKind.Float64, ulong.MaxValue - 1);
        var frame = new byte[request.Length];
        request.WriteTo(frame);
        Assert.Equal(request, DirectRequest.ReadFrom(frame));
        var add = new DirectRequest(1, DirectOperation.Add, 4, 2, 3, 4, 5, 6, 7, NumericKind.UInt32);
        add.WriteTo(frame);
        Assert.Equal(add, DirectRequest.ReadFrom(frame));

        var session = Guid.NewGuid();
        DirectRequest.Join(300, session).WriteTo(frame);
        var join = DirectRequest.ReadFrom(frame);
        Assert.Equal((DirectOperation.Join, (ushort)300, session), (join.Operation, join.Member, join.JoiningSession));

        var reply = new DirectReply(5, DirectStatus.Unknown, 42, long.MaxValue);
        frame = new byte[reply.Length];
        reply.WriteTo(frame);
        Assert.Equal(reply, DirectReply.ReadFrom(frame));
        Assert.NotEqual(DirectRevocation.Kind, frame[5]);
    }
}
