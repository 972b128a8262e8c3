using System.IO.Hashing;
using OrleansDsm.Errors;
using OrleansDsm.Pages;

namespace OrleansDsm.Grains.Pages;

/// <summary>The stored form of a page: its bytes and the allocation they belong to.</summary>
[GenerateSerializer]
internal sealed class PageState
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
    /// with one of these ids gets its original result back instead of being applied twice.
    /// </summary>
    [Id(4)]
    public List<AppliedRequest> Recent { get; set; } = [];

    /// <summary>What the mutation <paramref name="request"/> returned, if it is among the recent ones.</summary>
    public AppliedRequest? Applied(RequestId request) => Recent.Find(applied => applied.Request.SameMutation(request));

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
        request.Retry && Forgotten.Find(entry => entry.Session == request.Session) is { } entry && request.Sequence <= entry.UpTo;

    /// <summary>Remembers a mutation about to be stored, forgetting the oldest beyond <see cref="RecentRequests"/>.</summary>
    public void Remember(AppliedRequest applied)
    {
        if (Recent.Count == RecentRequests)
        {
            var forgotten = Recent[0].Request;
            Recent.RemoveAt(0);
            var index = Forgotten.FindIndex(entry => entry.Session == forgotten.Session);
            var upTo = index < 0 ? forgotten.Sequence : Math.Max(Forgotten[index].UpTo, forgotten.Sequence);
            if (index >= 0) Forgotten.RemoveAt(index);
            else if (Forgotten.Count == ForgottenSessions) Forgotten.RemoveAt(0);
            Forgotten.Add(new ForgottenRequests(forgotten.Session, upTo));
        }
        Recent.Add(applied);
    }

    /// <summary>A checksum of the epoch, version and bytes, set as the state goes to storage and checked when it comes back.</summary>
    [Id(5)]
    public uint Checksum { get; set; }

    /// <summary>A deep copy, for changes that must not touch this image.</summary>
    public PageState Clone() => new()
    {
        Epoch = Epoch, Version = Version, Bytes = (byte[])Bytes.Clone(), LeasesMayBeOut = LeasesMayBeOut, Recent = [.. Recent], Forgotten = [.. Forgotten],
    };

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
