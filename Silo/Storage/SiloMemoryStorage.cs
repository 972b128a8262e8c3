using System.Collections.Concurrent;
using System.Globalization;
using Orleans.Runtime;
using Orleans.Storage;
using OrleansDsm.Grains.Persistence;

namespace OrleansDsm.Silo.Storage;

/// <summary>
/// Grain storage in this silo's own memory, for memory mode, whose cluster is this one silo. Orleans' memory storage
/// keeps states in storage grains, which a cluster of several silos needs, so every read and write of a page is a grain
/// call carrying a copy of its state; here it is a dictionary lookup. A state is kept serialized, so a grain changing
/// its object after a write changes nothing stored; but a state its grain never changes once stored
/// (<see cref="IUnchangedOnceStored"/>, a page's image) is kept as the object itself, shared with the activations that
/// hold it, so a resident page's bytes are in memory once, not twice. A write or clear that names a version other than
/// the stored one changes nothing and fails with <see cref="InconsistentStateException"/>, as Orleans' providers do.
/// </summary>
public sealed class SiloMemoryStorage(IGrainStorageSerializer serializer) : IGrainStorage
{
    private readonly ConcurrentDictionary<(string State, GrainId Grain), Record> _records = new();

    // One counter for every record: a record cleared and written again never takes a version a stale writer still holds.
    private long _lastVersion;

    /// <inheritdoc/>
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_records.TryGetValue((stateName, grainId), out var record))
            (grainState.State, grainState.ETag, grainState.RecordExists) = (record.Payload is BinaryData payload ? serializer.Deserialize<T>(payload) : (T)record.Payload, Tag(record.Version), true);
        else
            (grainState.State, grainState.ETag, grainState.RecordExists) = (Empty<T>(), null, false);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var version = Replace((stateName, grainId), grainState.ETag, grainState.State is IUnchangedOnceStored unchanged ? unchanged : serializer.Serialize(grainState.State));
        (grainState.ETag, grainState.RecordExists) = (Tag(version), true);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        Replace((stateName, grainId), grainState.ETag, null);
        (grainState.State, grainState.ETag, grainState.RecordExists) = (Empty<T>(), null, false);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Stores <paramref name="payload"/> (serialized, or the shared state itself), or removes the record given null, if
    /// the stored version is the one <paramref name="etag"/> names (null: no record); returns the new version.
    /// </summary>
    private long Replace((string State, GrainId Grain) key, string? etag, object? payload)
    {
        var expected = etag is null ? (long?)null : long.Parse(etag, CultureInfo.InvariantCulture);
        while (true)
        {
            var exists = _records.TryGetValue(key, out var current);
            if (current?.Version != expected)
                throw new InconsistentStateException(
                    $"The stored state {key.State} of {key.Grain} is at version {(exists ? Tag(current!.Version) : "(none)")}, not {etag ?? "(none)"}: another activation wrote it.",
                    exists ? Tag(current!.Version) : "", etag ?? "");
            if (payload is null)
            {
                if (current is null || _records.TryRemove(KeyValuePair.Create(key, current))) return 0;
                continue;
            }
            var next = new Record(payload, Interlocked.Increment(ref _lastVersion));
            if (current is null ? _records.TryAdd(key, next) : _records.TryUpdate(key, next, current)) return next.Version;
        }
    }

    private static string Tag(long version) => version.ToString(CultureInfo.InvariantCulture);

    /// <summary>The state of a grain with no record: a new instance where the type has a parameterless constructor.</summary>
    private static T Empty<T>() => typeof(T).GetConstructor(Type.EmptyTypes) is not null ? Activator.CreateInstance<T>() : default!;

    /// <summary>A stored state; compared by reference, so a replacement succeeds only over the record it read.</summary>
    /// <param name="payload">The state serialized, or the state itself if it is <see cref="IUnchangedOnceStored"/>.</param>
    /// <param name="version">The version the record's ETag names, unique among every record's.</param>
    private sealed class Record(object payload, long version)
    {
        public object Payload { get; } = payload;

        public long Version { get; } = version;
    }
}
