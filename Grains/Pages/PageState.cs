using System.IO.Hashing;
using OrleansDsm.Errors;
using OrleansDsm.Pages;

namespace OrleansDsm.Grains.Pages;

/// <summary>
/// The stored form of a page: its bytes and the allocation they belong to. An image is never changed once handed to
/// storage or published (see <see cref="PageCommits"/>: changes go to a clone), so memory storage may share it.
/// </summary>
[GenerateSerializer]
internal sealed class PageState : Persistence.IUnchangedOnceStored
{
    /// <summary>The allocation epoch of the region the bytes were written for.</summary>
    [Id(0)]
    public long Epoch { get; set; }

    /// <summary>How many writes have been applied in this epoch.</summary>
    [Id(1)]
    public long Version { get; set; }

    /// <summary>Exactly one page of bytes, or empty while nothing is stored.</summary>
    [Id(2)]
    public byte[] Bytes { get; set; } = [];

    /// <summary>
    /// Whether an activation may have granted cache leases that no one revoked: set before the first fill of an
    /// activation, cleared by a graceful deactivation once every copy is revoked. Found set by a new activation, it
    /// means the last one crashed, and writes wait out one cache lease.
    /// </summary>
    [Id(3)]
    public bool LeasesMayBeOut { get; set; }

    /// <summary>How many applied mutations a page remembers for retries.</summary>
    public const int RecentRequests = 64;

    /// <summary>
    /// The page's last <see cref="RecentRequests"/> mutations and their results, oldest first: a mutation sent again
    /// with one of these ids gets its original result back instead of being applied twice. Every mutation adds one
    /// version, so the last one here produced <see cref="Version"/>, the one before it the version before, and so on.
    /// Sessions are named by their place in <see cref="RecentSessions"/>: a stored page pays for each session's id
    /// once, not once per mutation.
    /// </summary>
    [Id(8)]
    public List<RecentMutation> Recent { get; set; } = [];

    /// <summary>The sessions <see cref="Recent"/> names, by index; <see cref="Guid.Empty"/> marks a free slot.</summary>
    [Id(7)]
    public List<Guid> RecentSessions { get; set; } = [];

    /// <summary>What the mutation <paramref name="request"/> returned and the version it produced, if it is among the recent ones.</summary>
    public (ulong Value, long Version)? Applied(RequestId request)
    {
        var session = RecentSessions.IndexOf(request.Session);
        if (session < 0) return null;
        for (var i = Recent.Count - 1; i >= 0; i--)
            if (Recent[i].Session == session && Recent[i].Sequence == request.Sequence)
                return (Recent[i].Value, Version - (Recent.Count - 1 - i));
        return null;
    }

    /// <summary>How many sessions <see cref="Forgotten"/> keeps.</summary>
    public const int ForgottenSessions = 32;

    /// <summary>
    /// Per session, the highest sequence number among its mutations that left <see cref="Recent"/>, for the
    /// <see cref="ForgottenSessions"/> sessions that lost one last: a request of such a session at or below it that is
    /// not in <see cref="Recent"/> may have been applied, so it must not be applied again.
    /// </summary>
    [Id(6)]
    public List<ForgottenRequests> Forgotten { get; set; } = [];

    /// <summary>
    /// Whether <paramref name="request"/>, not among the recent ones, may have been applied and forgotten: only a retry
    /// can be, since a first attempt arriving late (after later ones of its session) was never applied.
    /// </summary>
    public bool MayHaveForgotten(RequestId request) =>
        request.Retry && (ForgotSessions || Forgotten.Find(entry => entry.Session == request.Session) is { } entry && request.Sequence <= entry.UpTo);

    /// <summary>
    /// Whether some session's entry left <see cref="Forgotten"/>: from then on no retry missing from <see cref="Recent"/>
    /// is applied, since it may belong to that session. Refusing is safe; applying twice is not.
    /// </summary>
    [Id(9)]
    public bool ForgotSessions { get; set; }

    /// <summary>
    /// Remembers the mutation that just produced <see cref="Version"/>, forgetting the oldest beyond
    /// <see cref="RecentRequests"/>.
    /// </summary>
    public void Remember(RequestId request, ulong value)
    {
        if (Recent.Count == RecentRequests) ForgetOldest();
        var session = RecentSessions.IndexOf(request.Session);
        if (session < 0)
        {
            session = RecentSessions.IndexOf(Guid.Empty);
            if (session < 0)
            {
                session = RecentSessions.Count;
                RecentSessions.Add(request.Session);
            }
            else RecentSessions[session] = request.Session;
        }
        Recent.Add(new RecentMutation(session, request.Sequence, value));
    }

    /// <summary>The session of the newest mutation remembered, if any.</summary>
    public Guid? LastWriter => Recent.Count == 0 ? null : RecentSessions[Recent[^1].Session];

    /// <summary>
    /// Forgets every recent mutation, as the versions start again (a new allocation's first write); a retry of one
    /// of them is then refused, as it would be once it dropped out of <see cref="Recent"/>.
    /// </summary>
    public void ForgetAll()
    {
        while (Recent.Count > 0) ForgetOldest();
    }

    private void ForgetOldest()
    {
        var forgotten = Recent[0];
        Recent.RemoveAt(0);
        var session = RecentSessions[forgotten.Session];
        if (!Recent.Exists(mutation => mutation.Session == forgotten.Session)) RecentSessions[forgotten.Session] = Guid.Empty;
        var index = Forgotten.FindIndex(entry => entry.Session == session);
        var upTo = index < 0 ? forgotten.Sequence : Math.Max(Forgotten[index].UpTo, forgotten.Sequence);
        if (index >= 0) Forgotten.RemoveAt(index);
        else if (Forgotten.Count == ForgottenSessions)
        {
            Forgotten.RemoveAt(0);
            ForgotSessions = true;
        }
        Forgotten.Add(new ForgottenRequests(session, upTo));
    }

    /// <summary>A checksum of the epoch, version and bytes, set as the state goes to storage and checked when it comes back.</summary>
    [Id(5)]
    public uint Checksum { get; set; }

    /// <summary>
    /// A deep copy, for changes that must not touch this image; with <paramref name="bytes"/>, a copy that holds those
    /// bytes instead of a copy of these (a write that replaces the whole page).
    /// </summary>
    public PageState Clone(byte[]? bytes = null) => new()
    {
        Epoch = Epoch, Version = Version, Bytes = bytes ?? (byte[])Bytes.Clone(), LeasesMayBeOut = LeasesMayBeOut,
        Recent = CopyWithRoomForOne(Recent), RecentSessions = CopyWithRoomForOne(RecentSessions),
        Forgotten = [.. Forgotten], ForgotSessions = ForgotSessions,
    };

    /// <summary>
    /// A copy of <paramref name="list"/> (one of the recent lists, which hold at most <see cref="RecentRequests"/>)
    /// with room for the one more entry a clone usually takes, its write: a list left to grow by itself takes four
    /// slots for its first entry and doubles from there, more than a hundred bytes of empty slots in a page written once.
    /// </summary>
    private static List<T> CopyWithRoomForOne<T>(List<T> list)
    {
        var copy = new List<T>(Math.Min(list.Count + 1, RecentRequests));
        copy.AddRange(list);
        return copy;
    }

    /// <summary>Sets <see cref="Checksum"/> for the state as it now stands.</summary>
    public void Seal() => Checksum = ComputeChecksum();

    /// <summary>
    /// Checks a state read from storage: one page of bytes (or none) matching its checksum. A damaged record must stop
    /// the page rather than be read as zeros or as wrong bytes.
    /// </summary>
    /// <exception cref="CorruptPageException">The record is truncated or its bytes do not match its checksum.</exception>
    public void Verify(long page, int pageSize)
    {
        if (Bytes.Length != 0 && Bytes.Length != pageSize)
            throw new CorruptPageException($"The stored record of page {page} holds {Bytes.Length} bytes, not a page of {pageSize}: it is truncated or damaged. Restore it from a backup.");
        if (ComputeChecksum() != Checksum)
            throw new CorruptPageException($"The stored record of page {page} does not match its checksum (stored {Checksum:x8}, computed {ComputeChecksum():x8}): its bytes are damaged. Restore it from a backup.");
    }

    private uint ComputeChecksum()
    {
        var hash = new Crc32();
        Span<byte> header = stackalloc byte[16];
        BitConverter.TryWriteBytes(header, Epoch);
        BitConverter.TryWriteBytes(header[8..], Version);
        hash.Append(header);
        hash.Append(Bytes);
        return hash.GetCurrentHashAsUInt32();
    }
}
