using System.IO.Hashing;
using OrleansDsm.Regions;

namespace OrleansDsm.Backups;

/// <summary>
/// The backup file, version 1, little-endian, in <see cref="BinaryWriter"/> encodings:
/// <list type="number">
/// <item>the ASCII line <c>ORLEANSDSM-BACKUP</c> and a newline, then the format version (int32);</item>
/// <item>the page size the pages were read with (int32) and the region count (int32); per region its name, element
/// type (strings), element size (int32), element count (int64), consistency kind (int32) and staleness bound (int64 ticks);</item>
/// <item>per stored page a 1 byte, the region's index (int32), the page's index in the region (int64), its length (int32),
/// its bytes, and a CRC-32 of those four (uint32); pages never written are absent and restore as zeros;</item>
/// <item>a 0 byte and the page count (int64);</item>
/// <item>the SHA-256 of everything before it (32 bytes).</item>
/// </list>
/// </summary>
internal static class BackupFormat
{
    public static readonly byte[] Magic = "ORLEANSDSM-BACKUP\n"u8.ToArray();

    public const int Version = 1;

    public const byte PageTag = 1;

    public const byte EndTag = 0;

    public const int DigestLength = 32;

    public static void WriteRegion(BinaryWriter writer, RegionDescriptor region)
    {
        writer.Write(region.Name);
        writer.Write(region.ElementType);
        writer.Write(region.ElementSize);
        writer.Write(region.ElementCount);
        writer.Write((int)region.Consistency.Kind);
        writer.Write(region.Consistency.MaxStaleness.Ticks);
    }

    public static AllocationRequest ReadRegion(BinaryReader reader)
    {
        var name = reader.ReadString();
        var elementType = reader.ReadString();
        var elementSize = reader.ReadInt32();
        var elementCount = reader.ReadInt64();
        var kind = (ConsistencyKind)reader.ReadInt32();
        var staleness = TimeSpan.FromTicks(reader.ReadInt64());
        var consistency = kind switch
        {
            ConsistencyKind.Strict => Consistency.Strict,
            ConsistencyKind.Uncached => Consistency.Uncached,
            ConsistencyKind.Release => Consistency.Release,
            ConsistencyKind.Bounded => Consistency.Bounded(staleness),
            _ => throw new InvalidDataException($"region '{name}' has an unknown consistency kind {(int)kind}"),
        };
        return new AllocationRequest(name, elementType, elementSize, elementCount, consistency);
    }

    /// <summary>The CRC-32 that guards one page record.</summary>
    public static uint PageChecksum(int region, long pageIndex, ReadOnlySpan<byte> bytes)
    {
        var crc = new Crc32();
        Span<byte> header = stackalloc byte[16];
        BitConverter.TryWriteBytes(header, region);
        BitConverter.TryWriteBytes(header[4..], pageIndex);
        BitConverter.TryWriteBytes(header[12..], bytes.Length);
        crc.Append(header);
        crc.Append(bytes);
        return crc.GetCurrentHashAsUInt32();
    }
}
