using System.Security.Cryptography;
using System.Text;
using OrleansDsm.Errors;
using OrleansDsm.Regions;

namespace OrleansDsm.Backups;

/// <summary>
/// Restores a backup (see <see cref="BackupFormat"/>) into a cluster without regions. The whole file is checked
/// against its digest before anything changes; a restore that fails part way frees the regions it allocated.
/// </summary>
internal static class BackupRestorer
{
    private const int WritesInFlight = 32;

    public static async Task<BackupSummary> RestoreAsync(DsmClient client, IRegionDirectoryGrain directory, Stream source, CancellationToken cancellation)
    {
        if (!source.CanSeek) throw new ArgumentException("A backup is restored from a seekable stream, such as a file: it is checked whole before it is applied.", nameof(source));
        await VerifyDigestAsync(source, cancellation);
        source.Position = 0;
        using var reader = new BinaryReader(source, Encoding.UTF8, leaveOpen: true);
        var (pageSize, requests) = ReadHeader(reader);
        var existing = await client.ListAsync(cancellation);
        if (existing.Count > 0)
            throw new DsmException($"A backup is restored into a cluster without regions; this one holds {existing.Count}: {string.Join(", ", existing.Take(5).Select(region => region.Name))}{(existing.Count > 5 ? ", ..." : "")}. Free them, or restore into a fresh database.");

        var regions = new List<RegionDescriptor>(requests.Count);
        try
        {
            foreach (var request in requests) regions.Add(client.Owned(await directory.Allocate(request).WaitAsync(cancellation)).Region);
            var (pages, bytes) = await WritePagesAsync(client, reader, regions, pageSize, cancellation);
            return new BackupSummary(regions.Count, pages, bytes);
        }
        catch
        {
            foreach (var region in regions)
            {
                try
                {
                    await client.FreeAsync(region.Name, CancellationToken.None);
                }
                catch (Exception)
                {
                    // Freeing is a courtesy here: the error that stopped the restore is the one to report.
                }
            }
            throw;
        }
    }

    private static async Task VerifyDigestAsync(Stream source, CancellationToken cancellation)
    {
        var length = source.Length - BackupFormat.DigestLength;
        if (length < BackupFormat.Magic.Length) throw Damaged("it is too short to be a backup");
        using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        source.Position = 0;
        var buffer = new byte[1 << 16];
        for (long left = length; left > 0;)
        {
            var read = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellation);
            if (read == 0) throw Damaged("it ended early");
            digest.AppendData(buffer, 0, read);
            left -= read;
        }
        var expected = new byte[BackupFormat.DigestLength];
        await source.ReadExactlyAsync(expected, cancellation);
        if (!digest.GetHashAndReset().AsSpan().SequenceEqual(expected))
            throw Damaged("its SHA-256 does not match the digest at its end (truncated, or changed after it was written)");
    }

    private static (int PageSize, List<AllocationRequest> Regions) ReadHeader(BinaryReader reader)
    {
        if (!reader.ReadBytes(BackupFormat.Magic.Length).AsSpan().SequenceEqual(BackupFormat.Magic)) throw Damaged("it does not start as an OrleansDsm backup");
        var version = reader.ReadInt32();
        if (version != BackupFormat.Version) throw Damaged($"it is format version {version}; this build reads version {BackupFormat.Version}");
        var pageSize = reader.ReadInt32();
        var count = reader.ReadInt32();
        var regions = new List<AllocationRequest>(count);
        for (var i = 0; i < count; i++) regions.Add(BackupFormat.ReadRegion(reader));
        return (pageSize, regions);
    }

    private static async Task<(long Pages, long Bytes)> WritePagesAsync(
        DsmClient client, BinaryReader reader, List<RegionDescriptor> regions, int pageSize, CancellationToken cancellation)
    {
        var inFlight = new List<Task>(WritesInFlight);
        long pages = 0, bytes = 0;
        while (reader.ReadByte() == BackupFormat.PageTag)
        {
            var regionIndex = reader.ReadInt32();
            var pageIndex = reader.ReadInt64();
            var page = reader.ReadBytes(reader.ReadInt32());
            if (reader.ReadUInt32() != BackupFormat.PageChecksum(regionIndex, pageIndex, page))
                throw Damaged($"page record {pages} does not match its CRC-32");
            if (regionIndex < 0 || regionIndex >= regions.Count) throw Damaged($"page record {pages} names region {regionIndex} of {regions.Count}");
            var region = regions[regionIndex];
            var offset = pageIndex * pageSize;
            if (pageIndex < 0 || offset >= region.ByteLength) throw Damaged($"page record {pages} lies outside region '{region.Name}'");
            var length = (int)Math.Min(page.Length, region.ByteLength - offset);
            inFlight.Add(client.WriteAsync(region.BaseAddress + offset, page.AsMemory(0, length), cancellation));
            if (inFlight.Count == WritesInFlight)
            {
                await Task.WhenAll(inFlight);
                inFlight.Clear();
            }
            (pages, bytes) = (pages + 1, bytes + page.Length);
        }
        await Task.WhenAll(inFlight);
        if (reader.ReadInt64() != pages) throw Damaged("its page count does not match the pages it holds");
        return (pages, bytes);
    }

    private static InvalidDataException Damaged(string why) => new($"The file is not a usable backup: {why}.");
}
