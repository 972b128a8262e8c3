using System.Security.Cryptography;

namespace OrleansDsm.Backups;

/// <summary>Writes a backup (see <see cref="BackupFormat"/>) from one <see cref="IBackupGrain"/> run.</summary>
internal static class BackupWriter
{
    // 16 pages of 4 KiB per call keep each response under the 85 KB at which .NET buffers move to the large object heap.
    private const int PagesPerCall = 16;

    public static async Task<BackupSummary> WriteAsync(IGrainFactory grains, Stream destination, CancellationToken cancellation)
    {
        var id = Guid.NewGuid();
        var run = grains.GetGrain<IBackupGrain>(id);
        using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new MemoryStream();
        using var writer = new BinaryWriter(buffer);
        async Task FlushAsync()
        {
            digest.AppendData(buffer.GetBuffer(), 0, (int)buffer.Length);
            await destination.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), cancellation);
            buffer.SetLength(0);
        }

        var regions = await run.Begin(id);
        try
        {
            writer.Write(BackupFormat.Magic);
            writer.Write(BackupFormat.Version);
            writer.Write(regions.Count == 0 ? 0 : regions[0].PageSize);
            writer.Write(regions.Count);
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var region in regions)
            {
                index[region.Name] = index.Count;
                BackupFormat.WriteRegion(writer, region);
            }
            long pages = 0, bytes = 0;
            while (await run.Next(PagesPerCall).WaitAsync(cancellation) is { Length: > 0 } batch)
            {
                foreach (var page in batch)
                {
                    var regionIndex = index[page.Region];
                    writer.Write(BackupFormat.PageTag);
                    writer.Write(regionIndex);
                    writer.Write(page.PageIndex);
                    writer.Write(page.Bytes.Length);
                    writer.Write(page.Bytes);
                    writer.Write(BackupFormat.PageChecksum(regionIndex, page.PageIndex, page.Bytes));
                    (pages, bytes) = (pages + 1, bytes + page.Bytes.Length);
                }
                await FlushAsync();
            }
            writer.Write(BackupFormat.EndTag);
            writer.Write(pages);
            await FlushAsync();
            await destination.WriteAsync(digest.GetHashAndReset(), cancellation);
            await destination.FlushAsync(cancellation);
            return new BackupSummary(regions.Count, pages, bytes);
        }
        finally
        {
            await run.End(id);
        }
    }
}
