namespace OrleansDsm.Bench.Baseline;

/// <summary>
/// The architecture's floor: a plain grain whose calls carry exactly the payload of the page grain's element calls,
/// and which, for writes, stores a page-sized state in the same storage provider. Anything the DSM costs beyond
/// this is the DSM's own overhead.
/// </summary>
public interface IBareCellGrain : IGrainWithIntegerKey
{
    [ReadOnly]
    Task<ulong> ReadElement(long epoch, int offset, int size, CancellationToken cancellation = default);

    Task WriteElement(long epoch, int offset, int size, ulong value, CancellationToken cancellation = default);

    /// <summary>Takes a whole page of bytes as its state and stores it: the floor of a bulk write.</summary>
    Task WritePage(long epoch, byte[] bytes, CancellationToken cancellation = default);
}
