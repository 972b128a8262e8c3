using Orleans.Serialization;
using Orleans.Storage;

namespace OrleansDsm.Grains.Persistence;

/// <summary>
/// Grain state in Orleans' binary form, byte for byte what <see cref="OrleansGrainStorageSerializer"/> writes, but
/// written into a pooled buffer and copied out once at its exact size. Orleans' own grows a fresh array by doubling
/// from 256 bytes, so a page's 4 KiB state cost 16 KB of arrays each time it was stored, and the payload it returned
/// kept an 8 KiB array alive for as long as it was held (memory storage holds it until the next store).
/// </summary>
public sealed class ExactSizeStorageSerializer(Serializer serializer) : IGrainStorageSerializer
{
    /// <inheritdoc/>
    public BinaryData Serialize<T>(T? input) => new(serializer.SerializeToArray(input));

    /// <inheritdoc/>
    public T Deserialize<T>(BinaryData input) => serializer.Deserialize<T>(input.ToMemory())!;
}
