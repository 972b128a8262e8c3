using System.Buffers.Binary;

namespace OrleansDsm.Direct;

/// <summary>
/// The direct channel's frames: a path from a client to a silo beside Orleans' messaging, for single-element gets of
/// Uncached regions and unfenced sets, which an Orleans call makes cost about 1.7x a Redis round trip, and for the
/// revocations those sets send (see docs/performance.md).
/// A connection opens with a hello (magic, version, the client's session); then the client sends requests and the
/// silo answers each with a reply carrying the request's id, in any order. The silo may also send the client's cache
/// its revocations (<see cref="DirectRevocation"/>), which the client answers (<see cref="DirectRevocationAnswer"/>).
/// All fields are little-endian; a frame's header has a fixed size and says how long the rest is.
/// </summary>
internal static class DirectWire
{
    /// <summary>"DSMD", the first four bytes of a hello.</summary>
    public const uint Magic = 0x444D5344;

    public const int Version = 1;

    /// <summary>Magic (4), version (4), session (16).</summary>
    public const int HelloSize = 24;

    /// <summary>Id (4), operation (1), element size (1), 2 spare, epoch (8), page (8), offset (4), 4 spare, value (8), request sequence (8).</summary>
    public const int RequestSize = 48;

    /// <summary>
    /// Id (4), status (1), kind (1: 0 for a reply, <see cref="DirectRevocation.Kind"/> for a revocation's header), 2
    /// spare, value (8): the element's bits for a get, the page's version for a set.
    /// </summary>
    public const int ReplySize = 16;

    public static void WriteHello(Span<byte> frame, Guid session)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(frame, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(frame[4..], Version);
        session.TryWriteBytes(frame[8..24]);
    }

    /// <summary>The session a hello names, or null when it is not a hello of this version.</summary>
    public static Guid? ReadHello(ReadOnlySpan<byte> frame) =>
        BinaryPrimitives.ReadUInt32LittleEndian(frame) == Magic && BinaryPrimitives.ReadInt32LittleEndian(frame[4..]) == Version
            ? new Guid(frame[8..24])
            : null;
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

/// <summary>One request on a direct connection.</summary>
internal readonly record struct DirectRequest(uint Id, DirectOperation Operation, int Size, long Epoch, long Page, int Offset, ulong Value, long Sequence) : IDirectFrame
{
    public int Length => DirectWire.RequestSize;

    public void WriteTo(Span<byte> frame)
    {
        frame[..DirectWire.RequestSize].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(frame, Id);
        frame[4] = (byte)Operation;
        frame[5] = (byte)Size;
        BinaryPrimitives.WriteInt64LittleEndian(frame[8..], Epoch);
        BinaryPrimitives.WriteInt64LittleEndian(frame[16..], Page);
        BinaryPrimitives.WriteInt32LittleEndian(frame[24..], Offset);
        BinaryPrimitives.WriteUInt64LittleEndian(frame[32..], Value);
        BinaryPrimitives.WriteInt64LittleEndian(frame[40..], Sequence);
    }

    public static DirectRequest ReadFrom(ReadOnlySpan<byte> frame) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(frame), (DirectOperation)frame[4], frame[5],
        BinaryPrimitives.ReadInt64LittleEndian(frame[8..]), BinaryPrimitives.ReadInt64LittleEndian(frame[16..]),
        BinaryPrimitives.ReadInt32LittleEndian(frame[24..]), BinaryPrimitives.ReadUInt64LittleEndian(frame[32..]),
        BinaryPrimitives.ReadInt64LittleEndian(frame[40..]));
}

/// <summary>The answer to one direct request.</summary>
internal readonly record struct DirectReply(uint Id, DirectStatus Status, ulong Value) : IDirectFrame
{
    public int Length => DirectWire.ReplySize;

    public void WriteTo(Span<byte> frame)
    {
        frame[..DirectWire.ReplySize].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(frame, Id);
        frame[4] = (byte)Status;
        BinaryPrimitives.WriteUInt64LittleEndian(frame[8..], Value);
    }

    public static DirectReply ReadFrom(ReadOnlySpan<byte> frame) =>
        new(BinaryPrimitives.ReadUInt32LittleEndian(frame), (DirectStatus)frame[4], BinaryPrimitives.ReadUInt64LittleEndian(frame[8..]));
}
