using System.Collections.Concurrent;
using Orleans.Runtime;
using Orleans.Storage;

namespace OrleansDsm.Tests.Fixtures;

/// <summary>
/// Real grain storage with a count of the records it holds, so tests can see that freeing a region deletes its rows.
/// It passes every call to the storage it wraps and only notes which records exist.
/// </summary>
public sealed class RowCountingStorage(IGrainStorage inner, ConcurrentDictionary<string, byte> rows) : IGrainStorage
{
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await inner.ReadStateAsync(stateName, grainId, grainState);
        if (grainState.RecordExists) rows.TryAdd(Key(stateName, grainId), 0);
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
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
