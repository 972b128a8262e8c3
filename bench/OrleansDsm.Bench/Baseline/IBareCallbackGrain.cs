namespace OrleansDsm.Bench.Baseline;

/// <summary>A client-side object a bare grain calls back, as a page calls a cache holder to revoke its copy.</summary>
public interface IBareObserver : IGrainObserver
{
    Task Drop(long value);
}

/// <summary>Answers a callback at once, as a cache holder answers a revocation.</summary>
public sealed class BareObserver : IBareObserver
{
    public Task Drop(long value) => Task.CompletedTask;
}

/// <summary>
/// The floor of a write that must hear from one other client before it returns: a grain that keeps a value in memory
/// and, for one of its two setters, first calls back an observer registered once (one round trip from the silo to a
/// client and back, inside the call). What a DSM write to a page another client caches costs beyond this ratio is the
/// DSM's own.
/// </summary>
public interface IBareCallbackGrain : IGrainWithIntegerKey
{
    Task Register(IBareObserver holder);

    /// <summary>Sets the value: the plain call.</summary>
    Task Set(long value);

    /// <summary>Calls the registered observer back, waits for its answer, then sets the value.</summary>
    Task SetAfterCallback(long value);
}

public sealed class BareCallbackGrain : Grain, IBareCallbackGrain
{
    private IBareObserver? _holder;
    private long _value;

    public Task Register(IBareObserver holder)
    {
        _holder = holder;
        return Task.CompletedTask;
    }

    public Task Set(long value)
    {
        _value = value;
        return Task.CompletedTask;
    }

    public async Task SetAfterCallback(long value)
    {
        await _holder!.Drop(value);
        _value = value;
    }
}
