using Orleans.Storage;
using OrleansDsm.Errors;

namespace OrleansDsm.Grains.Persistence;

/// <summary>
/// One grain's state in a grain storage provider, read and written by calling the provider itself. Orleans' own
/// <see cref="IPersistentState{TState}"/> (10.4.2) starts every storage operation by yielding the grain's turn and
/// queuing it behind the one before, so a write that the provider completes at once (memory storage) still takes two
/// trips through the grain's queue. A page, which orders its own storage writes (<see cref="Pages.PageCommits"/>) and
/// stores one for every write-behind interval it is written in, pays neither here.
/// <para>Like Orleans', it travels with a grain that moves (<see cref="Dehydrate"/>, <see cref="Rehydrate"/>): the new
/// activation starts from it, ETag included, without reading storage. Reading storage there instead made calls fail
/// and wait out their timeout while Orleans' rebalancer moved pages between silos. Errors keep Orleans' form: our own
/// and Orleans' pass as they are, any other (a database driver's) inside an <see cref="OrleansException"/> naming the
/// provider and the grain.</para>
/// </summary>
internal sealed class DirectState<T>(IGrainStorage storage, string storageName, string stateName, GrainId grain) where T : class, new()
{
    private GrainState<T> _state = new(new T());
    private bool _rehydrated;

    /// <summary>What storage holds, as last read or handed to it; a new <typeparamref name="T"/> when it holds nothing.</summary>
    public T State
    {
        get => _state.State!;
        set => _state.State = value;
    }

    /// <summary>Whether storage holds a record for the grain.</summary>
    public bool RecordExists => _state.RecordExists;

    /// <summary>Hands the state to the activation that takes over when the grain moves.</summary>
    public void Dehydrate(IDehydrationContext context) => context.TryAddValue(MigrationKey, _state);

    /// <summary>Takes the state its last activation handed over, if it moved here: <see cref="ReadAsync"/> then reads nothing.</summary>
    public void Rehydrate(IRehydrationContext context)
    {
        if (!context.TryGetValue<GrainState<T>>(MigrationKey, out var moved) || moved is null) return;
        (_state, _rehydrated) = (moved, true);
        _state.State ??= new T();
    }

    private string MigrationKey => $"dsm.state.{stateName}";

    /// <summary>Reads the stored state, unless the grain moved here with it.</summary>
    public async Task ReadAsync()
    {
        if (_rehydrated) return;
        Task read;
        try
        {
            read = storage.ReadStateAsync(stateName, grain, _state);
        }
        catch (Exception error) when (Foreign(error))
        {
            throw Wrapped(error, "read");
        }
        await Settled(read, "read");
        _state.State ??= new T();
    }

    /// <summary>Stores <see cref="State"/>, if storage still holds what this grain last read or wrote.</summary>
    public Task WriteAsync()
    {
        try
        {
            return Settled(storage.WriteStateAsync(stateName, grain, _state), "write");
        }
        catch (Exception error)
        {
            return Task.FromException(Foreign(error) ? Wrapped(error, "write") : error);
        }
    }

    /// <summary>Removes the stored record, if storage still holds what this grain last read or wrote.</summary>
    public Task ClearAsync()
    {
        try
        {
            return Settled(storage.ClearStateAsync(stateName, grain, _state), "clear");
        }
        catch (Exception error)
        {
            return Task.FromException(Foreign(error) ? Wrapped(error, "clear") : error);
        }
    }

    /// <summary><paramref name="operation"/> itself when it has succeeded already (most memory storage writes), so that awaiting it costs nothing.</summary>
    private Task Settled(Task operation, string verb) => operation.IsCompletedSuccessfully ? operation : WrapErrorsAsync(operation, verb);

    private async Task WrapErrorsAsync(Task operation, string verb)
    {
        try
        {
            await operation;
        }
        catch (Exception error) when (Foreign(error))
        {
            throw Wrapped(error, verb);
        }
    }

    /// <summary>Whether <paramref name="error"/> is neither ours nor Orleans' (nor a cancellation), and so goes inside an <see cref="OrleansException"/>.</summary>
    private static bool Foreign(Exception error) => error is not (OrleansException or DsmException or OperationCanceledException);

    private OrleansException Wrapped(Exception error, string verb) =>
        new($"Grain storage '{storageName}' failed to {verb} the state '{stateName}' of {grain}: {error.Message}", error);
}
