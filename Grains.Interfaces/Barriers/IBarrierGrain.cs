namespace OrleansDsm.Barriers;

/// <summary>
/// One named barrier, keyed by its name: a generation passes once its number of parties have arrived, and the next
/// generation begins. Arrivals are idempotent per party and generation, so a party may call again after a lost answer;
/// a first arrival (generation -1) called again belongs to the generation the first call joined, while the barrier
/// remembers that generation's outcome.
/// Held in memory by its activation: an activation that finds no generation gathering takes the generation of its
/// first arrival, so parties carry on across deactivations and silo losses (waiting parties simply arrive again).
/// </summary>
public interface IBarrierGrain : IGrainWithStringKey
{
    /// <summary>
    /// Records that <paramref name="party"/> reached <paramref name="generation"/> (or, when it is -1, the generation now
    /// gathering) of a barrier of <paramref name="parties"/>, and waits up to <paramref name="wait"/> (at most 10 s) for
    /// the others. Returns the generation it arrived at, and whether that has passed; when it has not, the party calls
    /// again with that generation to keep waiting.
    /// </summary>
    /// <exception cref="Errors.BarrierTimeoutException">
    /// A party that arrived at this generation waited its whole <paramref name="timeout"/> without the others arriving:
    /// the generation is broken, for every party of it, those arriving later included.
    /// </exception>
    [AlwaysInterleave]
    Task<BarrierArrival> Arrive(Guid party, int parties, long generation, TimeSpan timeout, TimeSpan wait);
}
