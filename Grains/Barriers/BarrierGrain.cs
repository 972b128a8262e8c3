using Orleans.Placement;
using OrleansDsm.Barriers;

namespace OrleansDsm.Grains.Barriers;

/// <summary>
/// A named barrier. A generation gathers arrivals, each with the deadline its party gave; it passes when the last
/// party arrives, and breaks when the earliest deadline among those who came passes first. The outcomes of the last
/// few generations are remembered, so a party asking again after a lost answer, or arriving after a break, learns it.
/// </summary>
// Stays where it started when pages are rebalanced: who has arrived lives in memory, and a move between a party's
// waits would forget a released generation.
[Immovable]
internal sealed class BarrierGrain : Grain, IBarrierGrain
{
    private static readonly TimeSpan LongestWait = TimeSpan.FromSeconds(10);
    private const int RememberedOutcomes = 8;
    private const int MostParties = 100_000;

    private long? _generation;
    private int _parties;
    // Each party that came, with the tick after which it stops waiting.
    private readonly Dictionary<Guid, long> _arrived = [];
    private TaskCompletionSource _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // Per recent generation: null when it passed, the error when it broke.
    private readonly Dictionary<long, BarrierTimeoutException?> _outcomes = [];
    // The generation each party's first arrival joined, while that generation's outcome is remembered: the same first
    // arrival sent again (its answer was lost, or its gateway) belongs there, not to whichever generation gathers now.
    private readonly Dictionary<Guid, long> _firstArrivals = [];

    private string Name => this.GetPrimaryKeyString();

    public async Task<BarrierArrival> Arrive(Guid party, int parties, long generation, TimeSpan timeout, TimeSpan wait)
    {
        if (party == Guid.Empty) throw new ArgumentException("A party is a non-empty id.", nameof(party));
        if (parties is < 1 or > MostParties)
            throw new ArgumentOutOfRangeException(nameof(parties), parties, $"A barrier has 1 to {MostParties} parties.");
        if (generation < -1) throw new ArgumentOutOfRangeException(nameof(generation), generation, "A generation is -1 (the one gathering) or more.");
        if (timeout < TimeSpan.Zero || timeout > TimeSpan.FromDays(1))
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "A barrier timeout lies between zero and one day.");
        if (wait < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(wait), wait, "A wait is not negative.");

        // A fresh activation, or one whose gathering generation nobody has reached yet, follows its parties.
        if (_generation is null || (_arrived.Count == 0 && generation > _generation)) (_generation, _parties) = (Math.Max(generation, 0), parties);
        if (generation == -1 && !_firstArrivals.TryGetValue(party, out generation)) _firstArrivals.Add(party, generation = _generation.Value);
        if (generation < _generation) return new BarrierArrival(generation, PastOutcome(generation));
        if (generation > _generation)
            throw new ArgumentException(
                $"A party reached generation {generation} of barrier '{Name}' while generation {_generation} still gathers ({_arrived.Count} of {_parties} came): more processes use the barrier than it has parties.",
                nameof(generation));
        if (parties != _parties)
        {
            if (_arrived.Count > 0)
                throw new ArgumentException($"Barrier '{Name}' has {_parties} parties in generation {_generation}; this party says {parties}.", nameof(parties));
            _parties = parties;
        }

        var outcome = _outcome.Task;
        if (_arrived.TryAdd(party, Environment.TickCount64 + (long)timeout.TotalMilliseconds) && _arrived.Count == _parties)
        {
            Conclude(null);
            return new BarrierArrival(generation, true);
        }
        var waitEnds = Environment.TickCount64 + (long)Math.Min(wait.TotalMilliseconds, LongestWait.TotalMilliseconds);
        while (!outcome.IsCompleted)
        {
            var brokenAt = _arrived.Values.Min();
            var now = Environment.TickCount64;
            if (now >= brokenAt)
            {
                Conclude(new BarrierTimeoutException(
                    $"Barrier '{Name}' generation {generation} broke: {_arrived.Count} of {_parties} parties arrived, and one of them waited its whole timeout; a party died or is late.")
                    { Generation = generation });
                break;
            }
            if (now >= waitEnds) return new BarrierArrival(generation, false);
            await Task.WhenAny(outcome, Task.Delay(TimeSpan.FromMilliseconds(Math.Min(brokenAt, waitEnds) - now)));
        }
        await outcome;
        return new BarrierArrival(generation, true);
    }

    /// <summary>Ends the gathering generation, passed (<paramref name="broken"/> null) or broken, and opens the next.</summary>
    private void Conclude(BarrierTimeoutException? broken)
    {
        var generation = _generation!.Value;
        _outcomes[generation] = broken;
        _outcomes.Remove(generation - RememberedOutcomes);
        foreach (var (party, joined) in _firstArrivals)
            if (joined <= generation - RememberedOutcomes) _firstArrivals.Remove(party);
        var concluded = _outcome;
        (_outcome, _generation) = (new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), generation + 1);
        _arrived.Clear();
        if (broken is null) concluded.SetResult();
        else concluded.SetException(broken);
    }

    private bool PastOutcome(long generation) => _outcomes.TryGetValue(generation, out var broken)
        ? broken is null ? true : throw broken
        : throw new ArgumentException(
            $"Generation {generation} of barrier '{Name}' ended long ago (it is at {_generation}): this party fell out of step.", nameof(generation));
}
