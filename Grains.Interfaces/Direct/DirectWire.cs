using System.Buffers.Binary;

namespace OrleansDsm.Direct;

/// <summary>
/// The direct channel's frames: a path from a client to a silo beside Orleans' messaging, for single-element gets of
/// Uncached regions, unfenced sets and atomics, and cache fills, which an Orleans call makes cost about 1.7x a Redis
/// round trip, and for the revocations those writes send (see docs/performance.md).
/// A connection opens with a hello (magic, version); then the client names the sessions it carries, each by a
/// <see cref="DirectOperation.Join"/> giving it a member number on the connection (all the <c>DsmClient</c>s of one
/// Orleans client share one connection), and sends requests, each under a member's number; the silo answers each
/// with a reply carrying the request's id, in any order (a fill's reply carries the page: <see cref="DirectFillReply"/>).
/// The silo may also send a member's cache its revocations (<see cref="DirectRevocation"/>), which the client answers
/// (<see cref="DirectRevocationAnswer"/>).
/// All fields are little-endian; a frame's header has a fixed size and says how long the rest is.
/// </summary>
internal static class DirectWire
{
    /// <summary>"DSMD", the first four bytes of a hello.</summary>
    public const uint Magic = 0x444D5344;

    public const int Version = 4;

    /// <summary>Magic (4), version (4).</summary>
    public const int HelloSize = 8;

    /// <summary>
    /// Id (4), operation (1), element size (1), member (2), epoch (8), page (8), offset (4), an add's numeric kind (1),
    /// 3 spare, value (8: a set's or exchange's bits, an add's delta), request sequence (8), a compare-exchange's
    /// comparand (8). A join carries its session's 16 bytes where the epoch and page go.
    /// </summary>
    public const int RequestSize = 56;

    /// <summary>
    /// Id (4), status (1), kind (1: 0 for a reply, <see cref="DirectRevocation.Kind"/> for a revocation's header,
    /// <see cref="DirectFillReply.Kind"/> for a fill's), member (2: a revocation's; in a reply or a fill's, byte 6 is 1
    /// when the page was not active on the silo, which then made the request as a call if it did it, and 0 otherwise), value (8: the
    /// element's bits for a get, what an atomic answers), version (8: the page's, after a set or an atomic). The headers
    /// of a revocation and of a fill's reply carry the length of the body that follows instead (see
    /// <see cref="BodyLengthOf"/>).
    /// </summary>
    public const int ReplySize = 24;

    public static void WriteHello(Span<byte> frame)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(frame, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(frame[4..], Version);
    }

    /// <summary>
    /// The length of the body that follows a header of <see cref="ReplySize"/> bytes whose kind has one (a revocation's,
    /// a fill's reply): the header says it at byte 8.
    /// </summary>
    public static int BodyLengthOf(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadInt32LittleEndian(header[8..]);

    /// <summary>Whether <paramref name="frame"/> is a hello of this version.</summary>
    public static bool IsHello(ReadOnlySpan<byte> frame) =>
        BinaryPrimitives.ReadUInt32LittleEndian(frame) == Magic && BinaryPrimitives.ReadInt32LittleEndian(frame[4..]) == Version;
}

/// <summary>What a direct request asks.</summary>
internal enum DirectOperation : byte
{
    /// <summary>Read one element, as <see cref="Pages.IPageGrain.ReadElement"/> does.</summary>
    Get = 1,

    /// <summary>Write one element, as <see cref="Pages.IPageGrain.WriteElement"/> does, under the session's request id.</summary>
    Set = 2,

    /// <summary>Not a request: the client's answer to a revocation the silo sent (see <see cref="DirectRevocationAnswer"/>).</summary>
    Revoked = 3,

    /// <summary>
    /// Not a request, and unanswered: names the session of a member number, for the requests and revocations that
    /// follow (see <see cref="DirectRequest.Join"/>). A number is joined once on a connection and never given to
    /// another session.
    /// </summary>
    Join = 4,

    /// <summary>Not a request, and unanswered: the member's session is gone (its client disposed); its revocations go elsewhere.</summary>
    Leave = 5,

    /// <summary>Add to one element, as <see cref="Pages.IPageGrain.Add"/> does, under the session's request id.</summary>
    Add = 6,

    /// <summary>Exchange one element, as <see cref="Pages.IPageGrain.Exchange"/> does, under the session's request id.</summary>
    Exchange = 7,

    /// <summary>Compare and exchange one element, as <see cref="Pages.IPageGrain.CompareExchange"/> does, under the session's request id.</summary>
    CompareExchange = 8,

    /// <summary>
    /// Fill the member's cache with a whole page, as <see cref="Pages.IPageGrain.Fill"/> does; answered by a
    /// <see cref="DirectFillReply"/> when done.
    /// </summary>
    Fill = 9,
}

/// <summary>How a direct request ended.</summary>
internal enum DirectStatus : byte
{
    /// <summary>Done: the reply's value is the answer.</summary>
    Done = 0,

    /// <summary>
    /// Not done, and a set surely not applied (a check refused it before it could be): the client makes the Orleans
    /// call, as a first attempt, and gets the call's own answer or error.
    /// </summary>
    NotApplied = 1,

    /// <summary>
    /// Not known to be done: the client makes the Orleans call as a retry of the same request id, so a set that did
    /// apply is not applied twice.
    /// </summary>
    Unknown = 2,
}

/// <summary>
/// One request on a direct connection, made under the session that joined as <paramref name="Member"/>;
/// <paramref name="Numeric"/> is an add's, <paramref name="Comparand"/> a compare-exchange's.
/// </summary>
internal readonly record struct DirectRequest(uint Id, DirectOperation Operation, int Size, long Epoch, long Page, int Offset, ulong Value, long Sequence,
    ushort Member = 0, Pages.NumericKind Numeric = default, ulong Comparand = 0) : IDirectFrame
{
    public int Length => DirectWire.RequestSize;

    /// <summary>The frame that joins <paramref name="session"/> to a connection as <paramref name="member"/>.</summary>
    public static DirectRequest Join(ushort member, Guid session)
    {
        Span<byte> bytes = stackalloc byte[16];
        session.TryWriteBytes(bytes);
        return new DirectRequest(0, DirectOperation.Join, 0, BinaryPrimitives.ReadInt64LittleEndian(bytes), BinaryPrimitives.ReadInt64LittleEndian(bytes[8..]), 0, 0, 0, member);
    }

    /// <summary>The session a <see cref="DirectOperation.Join"/> names.</summary>
    public Guid JoiningSession
    {
        get
        {
            Span<byte> bytes = stackalloc byte[16];
            BinaryPrimitives.WriteInt64LittleEndian(bytes, Epoch);
            BinaryPrimitives.WriteInt64LittleEndian(bytes[8..], Page);
            return new Guid(bytes);
        }
    }

    public void WriteTo(Span<byte> frame)
    {
        frame[..DirectWire.RequestSize].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(frame, Id);
        frame[4] = (byte)Operation;
        frame[5] = (byte)Size;
        BinaryPrimitives.WriteUInt16LittleEndian(frame[6..], Member);
        BinaryPrimitives.WriteInt64LittleEndian(frame[8..], Epoch);
        BinaryPrimitives.WriteInt64LittleEndian(frame[16..], Page);
        BinaryPrimitives.WriteInt32LittleEndian(frame[24..], Offset);
        frame[28] = (byte)Numeric;
        BinaryPrimitives.WriteUInt64LittleEndian(frame[32..], Value);
        BinaryPrimitives.WriteInt64LittleEndian(frame[40..], Sequence);
        BinaryPrimitives.WriteUInt64LittleEndian(frame[48..], Comparand);
    }

    public static DirectRequest ReadFrom(ReadOnlySpan<byte> frame) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(frame), (DirectOperation)frame[4], frame[5],
        BinaryPrimitives.ReadInt64LittleEndian(frame[8..]), BinaryPrimitives.ReadInt64LittleEndian(frame[16..]),
        BinaryPrimitives.ReadInt32LittleEndian(frame[24..]), BinaryPrimitives.ReadUInt64LittleEndian(frame[32..]),
        BinaryPrimitives.ReadInt64LittleEndian(frame[40..]), BinaryPrimitives.ReadUInt16LittleEndian(frame[6..]), (Pages.NumericKind)frame[28],
        BinaryPrimitives.ReadUInt64LittleEndian(frame[48..]));
}

/// <summary>The answer to one direct request: a get's element, or a set's or atomic's answer and the page's version after it.</summary>
/// <remarks>A fill's answer, which carries the page, is a <see cref="DirectFillReply"/> instead.
/// <paramref name="Elsewhere"/>: the page was not active on this silo (which made a request it did there as a call).</remarks>
internal readonly record struct DirectReply(uint Id, DirectStatus Status, ulong Value, long Version = 0, bool Elsewhere = false)
    : IDirectFrame
{
    public int Length => DirectWire.ReplySize;

    public void WriteTo(Span<byte> frame)
    {
        frame[..DirectWire.ReplySize].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(frame, Id);
        frame[4] = (byte)Status;
        frame[6] = Elsewhere ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt64LittleEndian(frame[8..], Value);
        BinaryPrimitives.WriteInt64LittleEndian(frame[16..], Version);
    }

    public static DirectReply ReadFrom(ReadOnlySpan<byte> frame) =>
        new(BinaryPrimitives.ReadUInt32LittleEndian(frame), (DirectStatus)frame[4], BinaryPrimitives.ReadUInt64LittleEndian(frame[8..]),
            BinaryPrimitives.ReadInt64LittleEndian(frame[16..]), Elsewhere: frame[6] == 1);
}
