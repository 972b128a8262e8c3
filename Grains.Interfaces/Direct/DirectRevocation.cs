using System.Buffers.Binary;
using OrleansDsm.Caching;

namespace OrleansDsm.Direct;

/// <summary>
/// A silo's revocations for the cache of one member of a direct connection, sent there instead of as a call to the
/// cache's observer (see <see cref="ICacheHolder.Revoke"/>, whose contract it keeps): a header of
/// <see cref="DirectWire.ReplySize"/> bytes (id, a zero status, kind 1 at byte 5, the member at byte 6, the body's
/// length at byte 8), then the revocations in order, each page (8), version (8), offset (4), length (4), whether it
/// continues a run (1), and its bytes' count (4, -1 for none) and bytes.
/// </summary>
internal sealed record DirectRevocation(uint Id, ushort Member, PageRevocation[] Revocations) : IDirectFrame
{
    public const byte Kind = 1;

    private const int Fixed = 29;

    // Counted once: the outbox asks a frame's length before it writes it.
    private readonly int _bodyLength = 4 + Revocations.Sum(r => Fixed + (r.Bytes?.Length ?? 0));

    public int Length => DirectWire.ReplySize + _bodyLength;

    public void WriteTo(Span<byte> frame)
    {
        frame[..DirectWire.ReplySize].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(frame, Id);
        frame[5] = Kind;
        BinaryPrimitives.WriteUInt16LittleEndian(frame[6..], Member);
        BinaryPrimitives.WriteInt32LittleEndian(frame[8..], _bodyLength);
        var body = frame[DirectWire.ReplySize..];
        BinaryPrimitives.WriteInt32LittleEndian(body, Revocations.Length);
        body = body[4..];
        foreach (var revocation in Revocations)
        {
            BinaryPrimitives.WriteInt64LittleEndian(body, revocation.Page);
            BinaryPrimitives.WriteInt64LittleEndian(body[8..], revocation.Version);
            BinaryPrimitives.WriteInt32LittleEndian(body[16..], revocation.Offset);
            BinaryPrimitives.WriteInt32LittleEndian(body[20..], revocation.Length);
            body[24] = revocation.Continues ? (byte)1 : (byte)0;
            BinaryPrimitives.WriteInt32LittleEndian(body[25..], revocation.Bytes?.Length ?? -1);
            revocation.Bytes?.CopyTo(body[Fixed..]);
            body = body[(Fixed + (revocation.Bytes?.Length ?? 0))..];
        }
    }

    /// <summary>Reads a whole frame, header and body.</summary>
    /// <exception cref="InvalidDataException">The body does not hold what it says.</exception>
    public static DirectRevocation ReadFrom(ReadOnlySpan<byte> frame)
    {
        var id = BinaryPrimitives.ReadUInt32LittleEndian(frame);
        var member = BinaryPrimitives.ReadUInt16LittleEndian(frame[6..]);
        var body = frame[DirectWire.ReplySize..(DirectWire.ReplySize + DirectWire.BodyLengthOf(frame))];
        var count = BinaryPrimitives.ReadInt32LittleEndian(body);
        if (count < 0 || count > body.Length / Fixed) throw new InvalidDataException($"A revocation frame says it holds {count} revocations in {body.Length} bytes.");
        body = body[4..];
        var revocations = new PageRevocation[count];
        for (var i = 0; i < count; i++)
        {
            if (body.Length < Fixed) throw new InvalidDataException("A revocation frame ends inside a revocation.");
            var bytesLength = BinaryPrimitives.ReadInt32LittleEndian(body[25..]);
            if (bytesLength < -1 || bytesLength > body.Length - Fixed) throw new InvalidDataException($"A revocation says it carries {bytesLength} bytes.");
            revocations[i] = new PageRevocation(BinaryPrimitives.ReadInt64LittleEndian(body), BinaryPrimitives.ReadInt64LittleEndian(body[8..]),
                BinaryPrimitives.ReadInt32LittleEndian(body[16..]), BinaryPrimitives.ReadInt32LittleEndian(body[20..]),
                bytesLength < 0 ? null : body.Slice(Fixed, bytesLength).ToArray(), body[24] == 1);
            body = body[(Fixed + Math.Max(bytesLength, 0))..];
        }
        return new DirectRevocation(id, member, revocations);
    }
}

/// <summary>
/// A client's answer to a <see cref="DirectRevocation"/>: a header of <see cref="DirectWire.RequestSize"/> bytes (the
/// revocation's id, operation <see cref="DirectOperation.Revoked"/>, the answers' count at byte 24), then one byte per
/// revocation, 1 when a copy of its version or a newer one is kept.
/// </summary>
internal sealed record DirectRevocationAnswer(uint Id, bool[] Kept) : IDirectFrame
{
    public int Length => DirectWire.RequestSize + Kept.Length;

    public void WriteTo(Span<byte> frame)
    {
        frame[..DirectWire.RequestSize].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(frame, Id);
        frame[4] = (byte)DirectOperation.Revoked;
        BinaryPrimitives.WriteInt32LittleEndian(frame[24..], Kept.Length);
        for (var i = 0; i < Kept.Length; i++) frame[DirectWire.RequestSize + i] = Kept[i] ? (byte)1 : (byte)0;
    }

    /// <summary>How many answers the header <paramref name="header"/> announces.</summary>
    public static int CountOf(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadInt32LittleEndian(header[24..]);

    public static DirectRevocationAnswer ReadFrom(ReadOnlySpan<byte> frame)
    {
        var count = CountOf(frame);
        var kept = new bool[count];
        for (var i = 0; i < count; i++) kept[i] = frame[DirectWire.RequestSize + i] == 1;
        return new DirectRevocationAnswer(BinaryPrimitives.ReadUInt32LittleEndian(frame), kept);
    }
}
