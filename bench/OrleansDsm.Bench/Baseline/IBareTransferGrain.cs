namespace OrleansDsm.Bench.Baseline;

/// <summary>
/// The transport's floor for range operations: a stateless grain that takes and hands out the same 64 KiB batches the
/// DSM's range calls carry, and does nothing else with them. What a range call costs beyond this is its page work.
/// </summary>
public interface IBareTransferGrain : IGrainWithIntegerKey
{
    /// <summary>Receives a batch and drops it, as a batch write would carry it.</summary>
    Task Absorb([Immutable] byte[] bytes, CancellationToken cancellation = default);

    /// <summary>Returns <paramref name="pieces"/> page-sized arrays the silo already holds, as a batch read returns pages' images.</summary>
    [ReadOnly]
    Task<Immutable<byte[][]>> Hand(int pieces, CancellationToken cancellation = default);
}

[StatelessWorker]
public sealed class BareTransferGrain : Grain, IBareTransferGrain
{
    // Shared, never changed: like the committed images a batch read hands out.
    private static readonly byte[][] Pages = [.. Enumerable.Range(0, 64).Select(i => Enumerable.Repeat((byte)i, 4096).ToArray())];

    public Task Absorb(byte[] bytes, CancellationToken cancellation) => Task.CompletedTask;

    public Task<Immutable<byte[][]>> Hand(int pieces, CancellationToken cancellation) => Task.FromResult(new Immutable<byte[][]>(Pages[..pieces]));
}
