using OrleansDsm.Barriers;

namespace OrleansDsm.Tests.Barriers;

/// <summary>
/// The named barrier on the in-process two-silo cluster: no party passes a generation before all have arrived, the
/// barrier serves generation after generation, and a missing party breaks the generation for the others with a clear
/// error instead of a hang, after which the barrier is usable again.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class SharedBarrierTests(ClusterFixture fixture)
{
    [Fact]
    public async Task No_party_passes_a_generation_before_every_party_has_arrived_at_it()
    {
        const int parties = 3, generations = 6;
        var name = UniqueNames.For("barrier");
        var arrived = new int[generations];
        var seenOnPassing = new int[parties, generations];
        var clients = Enumerable.Range(0, parties).Select(_ => new DsmClient(fixture.Cluster.Client)).ToArray();

        await Task.WhenAll(Enumerable.Range(0, parties).Select(party => Task.Run(async () =>
        {
            var barrier = clients[party].Barrier(name, parties);
            for (var generation = 0; generation < generations; generation++)
            {
                // Parties arrive in a different order each generation.
                await Task.Delay(((party + generation) % parties) * 40);
                Interlocked.Increment(ref arrived[generation]);
                await barrier.SignalAndWaitAsync(TimeSpan.FromSeconds(20));
                seenOnPassing[party, generation] = Volatile.Read(ref arrived[generation]);
            }
            Assert.Equal(generations, barrier.Generation);
        })));

        for (var party = 0; party < parties; party++)
        for (var generation = 0; generation < generations; generation++)
            Assert.Equal(parties, seenOnPassing[party, generation]);
        foreach (var client in clients) await client.DisposeAsync();
    }

    [Fact]
    public async Task A_missing_party_breaks_the_generation_for_the_others_and_the_barrier_goes_on_after()
    {
        var name = UniqueNames.For("broken");
        var (first, second, late) = (fixture.Client.Barrier(name, 3), fixture.Client.Barrier(name, 3), fixture.Client.Barrier(name, 3));
        var timeout = TimeSpan.FromMilliseconds(600);
        await Task.WhenAll(first.SignalAndWaitAsync(timeout * 10), second.SignalAndWaitAsync(timeout * 10), late.SignalAndWaitAsync(timeout * 10));

        var waited = System.Diagnostics.Stopwatch.StartNew();
        var errors = await Task.WhenAll(
            Assert.ThrowsAsync<BarrierTimeoutException>(() => first.SignalAndWaitAsync(timeout)),
            Assert.ThrowsAsync<BarrierTimeoutException>(() => second.SignalAndWaitAsync(TimeSpan.FromSeconds(30))));
        Assert.InRange(waited.Elapsed, timeout - TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(10));
        Assert.All(errors, error => Assert.Contains($"Barrier '{name}' generation 1 broke: 2 of 3 parties arrived", error.Message));

        // The late party learns that its generation broke; then all three pass the next one.
        var lateError = await Assert.ThrowsAsync<BarrierTimeoutException>(() => late.SignalAndWaitAsync(timeout));
        Assert.Contains("generation 1 broke", lateError.Message);
        Assert.All([first, second, late], party => Assert.Equal(2, party.Generation));
        await Task.WhenAll(first.SignalAndWaitAsync(timeout * 10), second.SignalAndWaitAsync(timeout * 10), late.SignalAndWaitAsync(timeout * 10));
        Assert.All([first, second, late], party => Assert.Equal(3, party.Generation));
    }

    [Fact]
    public async Task A_first_arrival_sent_again_after_its_generation_passed_learns_that_it_passed_and_joins_nothing_later()
    {
        var name = UniqueNames.For("first-again");
        var grain = fixture.Cluster.Client.GetGrain<IBarrierGrain>(name);
        var (party, other) = (Guid.NewGuid(), Guid.NewGuid());
        var timeout = TimeSpan.FromSeconds(20);
        var arrivals = await Task.WhenAll(grain.Arrive(party, 2, -1, timeout, timeout), grain.Arrive(other, 2, -1, timeout, timeout));
        Assert.All(arrivals, arrival => Assert.Equal(new BarrierArrival(0, true), arrival));

        // The same first arrival again, as after a lost answer: it belongs to generation 0, which passed.
        Assert.Equal(new BarrierArrival(0, true), await grain.Arrive(party, 2, -1, timeout, TimeSpan.Zero));

        // Generation 1 has not counted it: the other party alone does not pass it.
        Assert.Equal(new BarrierArrival(1, false), await grain.Arrive(other, 2, 1, timeout, TimeSpan.FromMilliseconds(100)));
        Assert.Equal(new BarrierArrival(1, true), await grain.Arrive(party, 2, 1, timeout, timeout));
    }

    [Fact]
    public async Task A_party_whose_first_arrival_broke_arrives_next_at_the_generation_after_it()
    {
        var name = UniqueNames.For("first-broke");
        var (first, second) = (fixture.Client.Barrier(name, 2), fixture.Client.Barrier(name, 2));
        await Task.WhenAll(first.SignalAndWaitAsync(TimeSpan.FromSeconds(20)), second.SignalAndWaitAsync(TimeSpan.FromSeconds(20)));

        // A party created now joins generation 1, which breaks for want of a second party.
        var late = fixture.Client.Barrier(name, 2);
        var error = await Assert.ThrowsAsync<BarrierTimeoutException>(() => late.SignalAndWaitAsync(TimeSpan.FromMilliseconds(200)));
        Assert.Equal(1, error.Generation);
        Assert.Equal(2, late.Generation);

        // Any party asking after generation 1 learns the same break, generation and all.
        var again = await Assert.ThrowsAsync<BarrierTimeoutException>(() => second.SignalAndWaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal(1, again.Generation);
        await Task.WhenAll(late.SignalAndWaitAsync(TimeSpan.FromSeconds(20)), second.SignalAndWaitAsync(TimeSpan.FromSeconds(20)));
        Assert.All([late, second], party => Assert.Equal(3, party.Generation));
    }

    [Fact]
    public async Task Parties_that_disagree_on_the_count_or_outnumber_it_are_told_so()
    {
        var name = UniqueNames.For("disagree");
        var two = fixture.Client.Barrier(name, 2);
        var waiting = two.SignalAndWaitAsync(TimeSpan.FromSeconds(20));
        await Task.Delay(100);
        var disagreeing = await Assert.ThrowsAsync<ArgumentException>(() => fixture.Client.Barrier(name, 3).SignalAndWaitAsync(TimeSpan.FromSeconds(1)));
        Assert.Contains("has 2 parties in generation 0; this party says 3", disagreeing.Message);
        await fixture.Client.Barrier(name, 2).SignalAndWaitAsync(TimeSpan.FromSeconds(20));
        await waiting;

        // A party created later joins the generation gathering; one claiming a generation far ahead of it is out of step.
        var ahead = fixture.Client.Barrier(name, 2);
        for (var i = 0; i < 3; i++) await Task.WhenAll(ahead.SignalAndWaitAsync(TimeSpan.FromSeconds(20)), two.SignalAndWaitAsync(TimeSpan.FromSeconds(20)));
        var pending = two.SignalAndWaitAsync(TimeSpan.FromSeconds(20));
        await Task.Delay(100);
        var outOfStep = await Assert.ThrowsAsync<ArgumentException>(() =>
            fixture.Cluster.Client.GetGrain<IBarrierGrain>(name).Arrive(Guid.NewGuid(), 2, 9, TimeSpan.FromSeconds(1), TimeSpan.Zero));
        Assert.Contains("more processes use the barrier than it has parties", outOfStep.Message);
        await ahead.SignalAndWaitAsync(TimeSpan.FromSeconds(20));
        await pending;
    }

    [Fact]
    public async Task Bad_arguments_are_refused_before_any_call()
    {
        Assert.Throws<ArgumentException>(() => fixture.Client.Barrier(" ", 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => fixture.Client.Barrier("b", 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => fixture.Client.Barrier("b", 100_001));
        var barrier = fixture.Client.Barrier(UniqueNames.For("args"), 1);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => barrier.SignalAndWaitAsync(TimeSpan.FromSeconds(-1)));
        Assert.Equal(-1, barrier.Generation);
        await barrier.SignalAndWaitAsync(TimeSpan.Zero);
        Assert.Equal(1, barrier.Generation);
    }
}
