using CsCheck;

namespace OrleansDsm.Tests.Fuzzing;

/// <summary>
/// Hostile input on the public client API: random sequences of allocations, opens, frees (some during writes), element
/// calls and range calls, with bad names, zero, negative and absurd lengths, out-of-range and extreme indices, element
/// types that cannot be added, and handles of freed regions. Every call either succeeds or fails with the exception
/// its docs name, and a shadow model shows that failed calls changed nothing and that every value read is right.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClientApiFuzzTests(ClusterFixture fixture)
{
    private const int Sequences = 25;
    private const int CallsPerSequence = 400;

    [Fact]
    public async Task Ten_thousand_random_calls_succeed_or_fail_as_documented_and_failed_calls_change_nothing()
    {
        var steps =
            from call in Gen.Int[0, 99]
            from pick in Gen.Int[0, int.MaxValue]
            from place in Gen.Long
            from bits in Gen.ULong
            from extra in Gen.Int[0, int.MaxValue]
            select new FuzzStep(call, pick, place, bits, extra);
        var calls = 0;

        await steps.Array[CallsPerSequence].SampleAsync(async sequence =>
        {
            await using var run = new FuzzRun(new DsmClient(fixture.Cluster.Client), UniqueNames.For("fuzz"));
            foreach (var step in sequence) await run.ApplyAsync(step);
            await run.VerifyLiveRegionsAsync();
            calls += run.Calls;
        }, iter: Sequences, threads: 1);

        Assert.True(calls >= Sequences * CallsPerSequence, $"only {calls} calls ran");
    }
}
