using System.Runtime.InteropServices;
using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;
using Orleans.Runtime;
using Orleans.Storage;
using OrleansDsm.Errors;

namespace OrleansDsm.Database.PageStore;

/// <summary>
/// Grain storage for pages in the <c>dsm_pages</c> table that batches the writes of many pages into one round trip and
/// one commit. Writes queue up; a few flushers each take everything queued (up to <see cref="MaxBatch"/>) and send it
/// as one Npgsql batch, which PostgreSQL runs as one implicit transaction. While a batch is in flight the next one
/// gathers, so under load the commits per second stay few while the writes per commit grow. No write is acknowledged
/// before the commit that carries it, and a write that names a stale version changes nothing and fails with
/// <see cref="InconsistentStateException"/>, as Orleans' providers do. Reads gather the same way: every page that
/// activates reads its row, and the reads queued meanwhile go as one query (up to <see cref="MaxReadBatch"/> rows).
/// </summary>
public sealed class PostgreSqlPageStore : IGrainStorage, IAsyncDisposable
{
    /// <summary>The most writes one batch carries.</summary>
    public const int MaxBatch = 256;

    /// <summary>The most rows one read query asks for.</summary>
    public const int MaxReadBatch = 64;

    private const int Flushers = 4;
    private const int Readers = 4;

    private readonly NpgsqlDataSource _database;
    private readonly string _serviceId;
    private readonly IGrainStorageSerializer _serializer;
    private readonly Channel<QueuedWrite> _queue = Channel.CreateUnbounded<QueuedWrite>(new UnboundedChannelOptions { SingleWriter = false });
    private readonly Task[] _flushers;
    private readonly Channel<QueuedRead> _reads = Channel.CreateUnbounded<QueuedRead>(new UnboundedChannelOptions { SingleWriter = false });
    private readonly Task[] _readers;
    private long _batches;
    private long _writes;
    private long _readQueries;
    private long _rowsRead;

    /// <summary>Creates the store on <paramref name="connectionString"/>, for the rows of <paramref name="serviceId"/>.</summary>
    public PostgreSqlPageStore(string connectionString, string serviceId, IGrainStorageSerializer serializer)
    {
        // The same three statements run for every page: prepared once per connection, PostgreSQL skips parsing and planning.
        // A few connections serve the flushers and every page's first read; activations beyond that wait their turn
        // instead of exhausting the server's connections. A connection back in the pool is not reset: the store's
        // statements change no session state (no SET, temporary table, advisory lock or LISTEN), and the reset was a
        // round trip and a transaction of its own before every read and batch, as many as the statements themselves.
        _database = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString)
        {
            MaxAutoPrepare = 8, AutoPrepareMinUsages = 2, MaxPoolSize = 24, NoResetOnClose = true,
        });
        _serviceId = serviceId;
        _serializer = serializer;
        _flushers = [.. Enumerable.Range(0, Flushers).Select(_ => Task.Run(FlushAsync))];
        _readers = [.. Enumerable.Range(0, Readers).Select(_ => Task.Run(FetchLoopAsync))];
    }

    /// <summary>How many batches (round trips, each one commit) the store has sent.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>How many writes and deletions those batches carried.</summary>
    public long Writes => Interlocked.Read(ref _writes);

    /// <summary>How many read queries (round trips) the store has sent.</summary>
    public long ReadQueries => Interlocked.Read(ref _readQueries);

    /// <summary>How many pages' rows those queries asked for.</summary>
    public long RowsRead => Interlocked.Read(ref _rowsRead);

    /// <inheritdoc/>
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var read = new QueuedRead(grainId.ToString());
        if (!_reads.Writer.TryWrite(read)) throw new ObjectDisposedException(nameof(PostgreSqlPageStore), "The page store has stopped.");
        if (await read.Done.Task is not { } row)
        {
            (grainState.State, grainState.ETag, grainState.RecordExists) = (Empty<T>(), null, false);
            return;
        }
        var (payload, version) = row;
        try
        {
            grainState.State = _serializer.Deserialize<T>(new BinaryData(payload));
        }
        catch (Exception error)
        {
            throw new CorruptPageException(
                $"The stored record of {grainId} ({payload.Length} bytes, row version {version}) cannot be read: it is truncated or damaged ({error.GetBaseException().Message}). Restore it from a backup.");
        }
        (grainState.ETag, grainState.RecordExists) = (version.ToString(System.Globalization.CultureInfo.InvariantCulture), true);
    }

    /// <inheritdoc/>
    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        // Serialized now, in the caller's turn: the grain may change its state while the write waits in the queue.
        var payload = WholeArray(_serializer.Serialize(grainState.State));
        var version = await EnqueueAsync(new QueuedWrite(grainId.ToString(), payload, ExpectedVersion(grainState.ETag)), grainId, grainState.ETag);
        (grainState.ETag, grainState.RecordExists) = (version.ToString(System.Globalization.CultureInfo.InvariantCulture), true);
    }

    /// <inheritdoc/>
    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (grainState.ETag is not null)
            await EnqueueAsync(new QueuedWrite(grainId.ToString(), null, ExpectedVersion(grainState.ETag)), grainId, grainState.ETag);
        (grainState.State, grainState.ETag, grainState.RecordExists) = (Empty<T>(), null, false);
    }

    /// <summary>Stops taking reads and writes, lets the flushers and readers finish what is queued, and closes the connections.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        _reads.Writer.TryComplete();
        await Task.WhenAll(_flushers);
        await Task.WhenAll(_readers);
        await _database.DisposeAsync();
    }

    /// <summary>The state of a grain with no record: a new instance where the type has a parameterless constructor.</summary>
    private static T Empty<T>() => typeof(T).GetConstructor(Type.EmptyTypes) is not null ? Activator.CreateInstance<T>() : default!;

    /// <summary>
    /// The serialized bytes as an array: the serializer's own when it made one of exactly that size (the product's
    /// serializer does, a fresh one per call), saving a copy of every page stored; a copy otherwise.
    /// </summary>
    private static byte[] WholeArray(BinaryData data) =>
        MemoryMarshal.TryGetArray(data.ToMemory(), out var segment) && segment is { Array: { } array, Offset: 0 } && segment.Count == array.Length
            ? array
            : data.ToArray();

    private static long? ExpectedVersion(string? etag) =>
        etag is null ? null : long.Parse(etag, System.Globalization.CultureInfo.InvariantCulture);

    private async Task<long> EnqueueAsync(QueuedWrite write, GrainId grainId, string? etag)
    {
        if (!_queue.Writer.TryWrite(write)) throw new ObjectDisposedException(nameof(PostgreSqlPageStore), "The page store has stopped.");
        return await write.Done.Task switch
        {
            { } version => version,
            null => throw new InconsistentStateException(
                $"The stored page {grainId} is no longer at row version {etag ?? "(none)"}: another activation wrote it.", etag ?? "", "unknown"),
        };
    }

    private Task FlushAsync() => ServeInBatchesAsync(_queue.Reader, MaxBatch, async batch =>
    {
        var versions = await CommitAsync(batch);
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _writes, batch.Count);
        for (var i = 0; i < batch.Count; i++) batch[i].Done.TrySetResult(versions[i]);
    }, (batch, error) =>
    {
        // Whether the batch committed is unknown: its writers retry under their request ids.
        var failure = error is NpgsqlException or TimeoutException
            ? new StorageUnavailableException($"PostgreSQL did not confirm a batch of {batch.Count} page writes: {error.Message}")
            : error;
        foreach (var write in batch) write.Done.TrySetException(failure);
    });

    /// <summary>
    /// Takes what <paramref name="queue"/> holds, up to <paramref name="most"/> items at a time, and has
    /// <paramref name="serve"/> answer each batch, or <paramref name="fail"/> when it throws, until the queue is completed
    /// and empty. While a batch is served the next one gathers.
    /// </summary>
    private static async Task ServeInBatchesAsync<T>(ChannelReader<T> queue, int most, Func<List<T>, Task> serve, Action<List<T>, Exception> fail)
    {
        var batch = new List<T>(most);
        while (await queue.WaitToReadAsync())
        {
            while (batch.Count < most && queue.TryRead(out var item)) batch.Add(item);
            if (batch.Count == 0) continue;
            try
            {
                await serve(batch);
            }
            catch (Exception error)
            {
                fail(batch, error);
            }
            batch.Clear();
        }
    }

    /// <summary>Sends <paramref name="batch"/> in one round trip and one transaction; returns each row's new version, or null on a conflict.</summary>
    private async Task<long?[]> CommitAsync(List<QueuedWrite> batch)
    {
        await using var connection = await _database.OpenConnectionAsync();
        await using var commands = new NpgsqlBatch(connection);
        foreach (var write in batch) commands.BatchCommands.Add(CommandFor(write));
        var versions = new long?[batch.Count];
        // Every result is read and the reader closed before anyone hears back: closing it consumes the commit.
        await using (var reader = await commands.ExecuteReaderAsync())
        {
            for (var i = 0; i < batch.Count; i++)
            {
                if (i > 0) await reader.NextResultAsync();
                if (await reader.ReadAsync()) versions[i] = reader.GetInt64(0);
            }
        }
        return versions;
    }

    private NpgsqlBatchCommand CommandFor(QueuedWrite write)
    {
        var command = new NpgsqlBatchCommand(
            (write.Payload, write.ExpectedVersion) switch
            {
                (null, _) => "DELETE FROM dsm_pages WHERE service_id = $1 AND grain_id = $2 AND version = $3 RETURNING version",
                (_, null) => "INSERT INTO dsm_pages (service_id, grain_id, payload, version) VALUES ($1, $2, $3, 1) ON CONFLICT DO NOTHING RETURNING version",
                _ => "UPDATE dsm_pages SET payload = $3, version = version + 1 WHERE service_id = $1 AND grain_id = $2 AND version = $4 RETURNING version",
            });
        command.Parameters.Add(new NpgsqlParameter { Value = _serviceId });
        command.Parameters.Add(new NpgsqlParameter { Value = write.GrainId });
        if (write.Payload is null)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = write.ExpectedVersion!.Value });
            return command;
        }
        command.Parameters.Add(new NpgsqlParameter { Value = write.Payload, NpgsqlDbType = NpgsqlDbType.Bytea });
        if (write.ExpectedVersion is { } expected) command.Parameters.Add(new NpgsqlParameter { Value = expected });
        return command;
    }

    private Task FetchLoopAsync() => ServeInBatchesAsync(_reads.Reader, MaxReadBatch, async batch =>
    {
        var rows = await FetchAsync(batch);
        Interlocked.Increment(ref _readQueries);
        Interlocked.Add(ref _rowsRead, batch.Count);
        foreach (var read in batch) read.Done.TrySetResult(rows.TryGetValue(read.GrainId, out var row) ? row : null);
    }, (batch, error) =>
    {
        var failure = error is NpgsqlException or TimeoutException
            ? new StorageUnavailableException(
                $"PostgreSQL did not return {(batch.Count == 1 ? "the stored record" : $"the stored records of {batch.Count} pages, among them that")} of {batch[0].GrainId}: {error.Message}")
            : error;
        foreach (var read in batch) read.Done.TrySetException(failure);
    });

    /// <summary>The rows of <paramref name="batch"/>'s pages that exist, by grain id, in one query.</summary>
    private async Task<Dictionary<string, (byte[] Payload, long Version)>> FetchAsync(List<QueuedRead> batch)
    {
        await using var command = _database.CreateCommand("SELECT grain_id, payload, version FROM dsm_pages WHERE service_id = $1 AND grain_id = ANY($2)");
        command.Parameters.Add(new NpgsqlParameter { Value = _serviceId });
        command.Parameters.Add(new NpgsqlParameter { Value = batch.Select(read => read.GrainId).Distinct().ToArray() });
        var rows = new Dictionary<string, (byte[] Payload, long Version)>(batch.Count);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows[reader.GetString(0)] = (reader.GetFieldValue<byte[]>(1), reader.GetInt64(2));
        return rows;
    }

    /// <summary>One page's read waiting for its query; completes with the row, or null when the page has none.</summary>
    private sealed record QueuedRead(string GrainId)
    {
        public TaskCompletionSource<(byte[] Payload, long Version)?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>One write or deletion (no payload) waiting for its batch; completes with the row's new version, or null on a conflict.</summary>
    private sealed record QueuedWrite(string GrainId, byte[]? Payload, long? ExpectedVersion)
    {
        public TaskCompletionSource<long?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
