namespace OrleansDsm.Grains.Persistence;

/// <summary>
/// At most one run of an operation at a time, on one grain's thread: a caller that comes while a run is going joins
/// it rather than starting another, and shares its outcome. Callers loop on what they wait for, since the run they
/// joined may have begun before their change.
/// </summary>
internal sealed class SingleFlight
{
    private Task? _running;

    /// <summary>Waits for the run in progress, or starts one with <paramref name="start"/> and waits for it.</summary>
    public async Task JoinAsync(Func<Task> start)
    {
        var current = _running ??= start();
        try
        {
            await current;
        }
        finally
        {
            if (ReferenceEquals(_running, current)) _running = null;
        }
    }

    /// <summary>Waits until no run is in progress (throwing if the one awaited failed).</summary>
    public async Task IdleAsync()
    {
        while (_running is { } running) await running;
    }
}
