using OrleansDsm.Buffering;
using OrleansDsm.Connection;

namespace OrleansDsm.Barriers;

/// <summary>
/// One party of a named barrier shared by every process of the cluster: <see cref="SignalAndWaitAsync"/> returns once
/// all <see cref="Parties"/> parties have called it for the same generation, and the barrier is then ready for the
/// next. Each participant (process or task) uses its own instance, from <c>DsmClient.Barrier</c>. If a party does not
/// arrive within the timeout of one that did, the generation breaks: every party of it gets
/// <see cref="BarrierTimeoutException"/>, and each one's next call starts the next generation. Arriving is a release
/// point, and passing an acquire point, of <see cref="Regions.Consistency.Release"/> regions. One instance is not meant
/// for two calls at once.
/// </summary>
public sealed class SharedBarrier
{
    private static readonly TimeSpan WaitPerCall = TimeSpan.FromSeconds(5);
    private readonly IGrainFactory _grains;
    private readonly ReleaseBuffer _buffer;
    private readonly TransientRetry _retry;
    private readonly Guid _party = Guid.NewGuid();

    internal SharedBarrier(IGrainFactory grains, ReleaseBuffer buffer, TransientRetry retry, string name, int parties)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("A barrier's name is not empty.", nameof(name));
        if (parties is < 1 or > 100_000) throw new ArgumentOutOfRangeException(nameof(parties), parties, "A barrier has 1 to 100,000 parties.");
        (_grains, _buffer, _retry, Name, Parties) = (grains, buffer, retry, name, parties);
    }

    /// <summary>The barrier's name.</summary>
    public string Name { get; }

    /// <summary>How many parties each generation waits for.</summary>
    public int Parties { get; }

    /// <summary>
    /// The generation this party arrives at next: one past the last it passed or saw broken. Before its first arrival it
    /// is -1, meaning whichever generation is gathering, so a party may join a barrier that others already use.
    /// </summary>
    public long Generation { get; private set; } = -1;

    /// <summary>
    /// Sends this client's unreleased writes, arrives, and waits until every party has arrived at this generation.
    /// Waiting costs one call per five seconds, not a poll.
    /// </summary>
    /// <param name="timeout">How long this party waits for the others before the generation breaks for all of them.</param>
    /// <param name="cancellation">Stops waiting; the arrival stands, and the next call waits on the same generation.</param>
    /// <exception cref="BarrierTimeoutException">A party waited its whole timeout: the generation broke.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative or longer than a day.</exception>
    /// <exception cref="ArgumentException">More processes use the barrier than it has parties, or they disagree on how many.</exception>
    public async Task SignalAndWaitAsync(TimeSpan timeout, CancellationToken cancellation = default)
    {
        if (timeout < TimeSpan.Zero || timeout > TimeSpan.FromDays(1))
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "A barrier timeout lies between zero and one day.");
        await _buffer.ReleaseAsync(cancellation);
        var grain = _grains.GetGrain<IBarrierGrain>(Name);
        while (true)
        {
            BarrierArrival arrival;
            try
            {
                cancellation.ThrowIfCancellationRequested();
                // Sent again as often as it must: the barrier counts a party once per generation, and places a first
                // arrival (generation -1) sent again where the first attempt went.
                arrival = await _retry.RunAsync(() => grain.Arrive(_party, Parties, Generation, timeout, WaitPerCall).WaitAsync(cancellation), cancellation);
            }
            catch (BarrierTimeoutException broken)
            {
                Generation = broken.Generation + 1;
                throw;
            }
            Generation = arrival.Passed ? arrival.Generation + 1 : arrival.Generation;
            if (!arrival.Passed) continue;
            _buffer.Acquired();
            return;
        }
    }
}
