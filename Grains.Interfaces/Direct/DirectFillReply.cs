using System.Buffers.Binary;
using System.Text;
using OrleansDsm.Caching;
using OrleansDsm.Pages;

namespace OrleansDsm.Direct;

/// <summary>
/// The answer to a <see cref="DirectOperation.Fill"/> that was done: a header of <see cref="DirectWire.ReplySize"/>
/// bytes (the request's id, status <see cref="DirectStatus.Done"/>, kind 2 at byte 5, 1 at byte 6 if the page was not
/// active on the silo, the body's length at byte 8),
/// then the copy: the page's version (8), the lease's term (8) and milliseconds (4), the granting silo's name (its
/// UTF-8 byte count, 2, then the bytes), and the page's byte count (4, -1 when it reads as zeros) and bytes. A fill
/// that was not done is answered by a plain <see cref="DirectReply"/> with its status.
/// </summary>
internal sealed record DirectFillReply(uint Id, PageCopy Copy, bool Elsewhere = false) : IDirectFrame
{
    public const byte Kind = 2;

    private const int Fixed = 8 + 8 + 4 + 2 + 4;

    // A silo's name is an address, a port and a generation: far shorter than this.
    private const int LongestSiloName = 1024;

    // Counted once: the outbox asks a frame's length before it writes it.
    private readonly int _siloLength = Encoding.UTF8.GetByteCount(Copy.Lease.Silo);

    public int Length => DirectWire.ReplySize + BodyLength;

    private int BodyLength => Fixed + _siloLength + (Copy.Bytes?.Length ?? 0);

    public void WriteTo(Span<byte> frame)
    {
        frame[..DirectWire.ReplySize].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(frame, Id);
        frame[4] = (byte)DirectStatus.Done;
        frame[5] = Kind;
        frame[6] = Elsewhere ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt32LittleEndian(frame[8..], BodyLength);
        var body = frame[DirectWire.ReplySize..];
        BinaryPrimitives.WriteInt64LittleEndian(body, Copy.Version);
        BinaryPrimitives.WriteInt64LittleEndian(body[8..], Copy.Lease.Term);
        BinaryPrimitives.WriteInt32LittleEndian(body[16..], Copy.Lease.LeaseMilliseconds);
        BinaryPrimitives.WriteUInt16LittleEndian(body[20..], (ushort)_siloLength);
        Encoding.UTF8.GetBytes(Copy.Lease.Silo, body[22..]);
        body = body[(22 + _siloLength)..];
        BinaryPrimitives.WriteInt32LittleEndian(body, Copy.Bytes?.Length ?? -1);
        Copy.Bytes?.CopyTo(body[4..]);
    }

    /// <summary>Reads a whole frame, header and body.</summary>
    /// <exception cref="InvalidDataException">The body does not hold what it says.</exception>
    public static DirectFillReply ReadFrom(ReadOnlySpan<byte> frame)
    {
        var id = BinaryPrimitives.ReadUInt32LittleEndian(frame);
        var body = frame[DirectWire.ReplySize..(DirectWire.ReplySize + DirectWire.BodyLengthOf(frame))];
        if (body.Length < Fixed) throw new InvalidDataException($"A fill's reply of {body.Length} bytes is shorter than its fixed part.");
        var version = BinaryPrimitives.ReadInt64LittleEndian(body);
        var term = BinaryPrimitives.ReadInt64LittleEndian(body[8..]);
        var milliseconds = BinaryPrimitives.ReadInt32LittleEndian(body[16..]);
        var siloLength = BinaryPrimitives.ReadUInt16LittleEndian(body[20..]);
        if (siloLength > LongestSiloName || body.Length < Fixed + siloLength)
            throw new InvalidDataException($"A fill's reply names a silo of {siloLength} bytes in a body of {body.Length}.");
        var silo = Encoding.UTF8.GetString(body.Slice(22, siloLength));
        var rest = body[(22 + siloLength)..];
        var bytesLength = BinaryPrimitives.ReadInt32LittleEndian(rest);
        if (bytesLength < -1 || Math.Max(bytesLength, 0) != rest.Length - 4)
            throw new InvalidDataException($"A fill's reply says it carries {bytesLength} bytes of the page, and has room for {rest.Length - 4}.");
        var bytes = bytesLength < 0 ? null : rest.Slice(4, bytesLength).ToArray();
        return new DirectFillReply(id, new PageCopy(version, bytes, new LeaseGrant(silo, term, milliseconds)), Elsewhere: frame[6] == 1);
    }
}
