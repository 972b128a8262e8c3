using System.Collections.Concurrent;
using Orleans.Runtime;
using Orleans.Storage;

namespace OrleansDsm.Tests.Fixtures;

/// <summary>
/// Real grain storage with a count of the records it holds, so tests can see that freeing a region deletes its rows,
/// and a <see cref="StorageTap"/> that counts writes and can slow them down or make them fail. It passes every call to
/// the storage it wraps.
/// </summary>
public sealed class RowCountingStorage(IGrainStorage inner, ConcurrentDictionary<string, byte> rows, StorageTap tap) : IGrainStorage
{
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await inner.ReadStateAsync(stateName, grainId, grainState);
        if (grainState.RecordExists) rows.TryAdd(Key(stateName, grainId), 0);
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await tap.BeforeWriteAsync();
        await inner.WriteStateAsync(stateName, grainId, grainState);
        rows.TryAdd(Key(stateName, grainId), 0);
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await inner.ClearStateAsync(stateName, grainId, grainState);
        rows.TryRemove(Key(stateName, grainId), out _);
    }

    private static string Key(string stateName, GrainId grainId) => $"{stateName}/{grainId}";
}

/// <summary>Counts the writes of a storage and, when a test asks, delays each one or makes the next ones fail.</summary>
public sealed class StorageTap
{
    private long _writes;
    private int _failuresLeft;

    /// <summary>How many writes reached the storage.</summary>
    public long Writes => Interlocked.Read(ref _writes);

    /// <summary>How long each write waits before it reaches the storage.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>Makes the next <paramref name="count"/> writes fail, after their delay, without reaching the storage.</summary>
    public void FailNext(int count) => Volatile.Write(ref _failuresLeft, count);

    internal async Task BeforeWriteAsync()
    {
        Interlocked.Increment(ref _writes);
        if (Delay > TimeSpan.Zero) await Task.Delay(Delay);
        if (Interlocked.Decrement(ref _failuresLeft) >= 0) throw new IOException("The test made this storage write fail.");
        Interlocked.Increment(ref _failuresLeft);
    }
}
