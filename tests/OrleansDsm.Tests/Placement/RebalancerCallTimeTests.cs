using System.Diagnostics;
using Orleans.Configuration;
using Orleans.TestingHost;
using OrleansDsm.Grains.Hosting;
using OrleansDsm.Silo.Hosting;
using Xunit.Abstractions;

namespace OrleansDsm.Tests.Placement;

/// <summary>
/// Orleans' activation rebalancer moving active pages to a silo that joins, in the test process, on Orleans' memory
/// storage (kept in storage grains, which the rebalancer may move as well), written behind, while gets from many
/// outstanding calls go on: none fails and none waits long. A moving page hands its state to its next activation
/// (DirectState); when the next activation read storage instead, gets there failed or waited out their response
/// timeout, which the PostgreSQL rebalancing and migration tests did not show and the bench's SiloJoin did.
/// </summary>
public sealed class RebalancerCallTimeTests(ITestOutputHelper output)
{
    private const int Pages = 400;
    private const int Outstanding = 64;

    // A third of Orleans' 30 s response timeout, which the stalled gets waited out; far above a get's time on a loaded
    // machine (milliseconds), with room for a collection or a starved thread pool while the whole suite runs.
    private static readonly TimeSpan SlowestAllowed = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Gets_neither_fail_nor_stall_while_the_rebalancer_moves_pages_to_a_joining_silo()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddBinaryMemoryStorage(StorageNames.Regions);
            silo.AddBinaryMemoryStorage(StorageNames.Pages);
            silo.AddSharedMemory(options => options.Configure(space => space.WriteBehind = SiloComposition.MemoryWriteBehind));
#pragma warning disable ORLEANSEXP002 // Orleans marks the rebalancer experimental
            silo.AddActivationRebalancer();
            silo.Configure<ActivationRebalancerOptions>(rebalancer =>
                (rebalancer.RebalancerDueTime, rebalancer.SessionCyclePeriod, rebalancer.CycleNumberWeight) = (TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2), 1));
#pragma warning restore ORLEANSEXP002
        });
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        var dsm = new DsmClient(cluster.Client);
        var array = await dsm.AllocateAsync<long>(UniqueNames.For("rebalanced-gets"), Pages * 512L, Consistency.Uncached);
        var written = Enumerable.Range(0, Pages * 512).Select(i => (long)i).ToArray();
        await array.WriteAsync(0, written); // every page active, and holding its own values

        var load = new GetLoad(array);
        var running = load.RunAsync();
        var joining = await cluster.StartAdditionalSiloAsync();
        // The joining silo's own list of the pages active on it says which have moved there.
        var arrived = ActivePages.Of(joining);
        double FractionMoved() => (double)Enumerable.Range(0, Pages).Count(page => arrived.Find(array.Region.FirstPage + page) is not null) / Pages;
        var moving = Stopwatch.StartNew();
        double moved;
        while ((moved = FractionMoved()) < 0.3 && moving.Elapsed < TimeSpan.FromSeconds(60))
            await Task.Delay(250);
        await Task.Delay(TimeSpan.FromSeconds(1)); // gets that reached pages as they moved last
        load.Stop();
        await running;

        output.WriteLine($"{moved:P0} of the pages moved in {moving.Elapsed.TotalSeconds:0.0} s; {load.Completed} gets, {load.Failures.Count} failed, the slowest took {load.Slowest.TotalMilliseconds:0} ms");
        Assert.True(moved >= 0.3, $"only {moved:P0} of the pages were on the joining silo after {moving.Elapsed.TotalSeconds:0} s");
        Assert.True(load.Failures.IsEmpty, $"{load.Failures.Count} gets failed, the first with: {load.Failures.FirstOrDefault()}");
        Assert.True(load.WrongValues == 0, $"{load.WrongValues} gets returned a value other than the one written");
        Assert.True(load.Slowest < SlowestAllowed, $"the slowest get took {load.Slowest.TotalSeconds:0.0} s");
    }

    /// <summary>Gets of random elements from <see cref="Outstanding"/> callers until stopped, each checked against the value written.</summary>
    private sealed class GetLoad(SharedArray<long> array)
    {
        private volatile bool _stopping;
        private long _completed, _wrongValues, _slowestTicks;

        public System.Collections.Concurrent.ConcurrentQueue<string> Failures { get; } = new();

        public long Completed => Interlocked.Read(ref _completed);

        public long WrongValues => Interlocked.Read(ref _wrongValues);

        public TimeSpan Slowest => TimeSpan.FromTicks(Interlocked.Read(ref _slowestTicks));

        public Task RunAsync() => Task.WhenAll(Enumerable.Range(0, Outstanding).Select(caller => Task.Run(async () =>
        {
            var random = new Random(caller);
            while (!_stopping)
            {
                var index = random.NextInt64(Pages * 512L);
                var started = Stopwatch.GetTimestamp();
                try
                {
                    if (await array.GetAsync(index) != index) Interlocked.Increment(ref _wrongValues);
                }
                catch (Exception error)
                {
                    Failures.Enqueue($"{error.GetType().Name}: {error.Message}");
                }
                var took = Stopwatch.GetElapsedTime(started).Ticks;
                for (var slowest = Interlocked.Read(ref _slowestTicks); took > slowest; slowest = Interlocked.Read(ref _slowestTicks))
                    if (Interlocked.CompareExchange(ref _slowestTicks, took, slowest) == slowest) break;
                Interlocked.Increment(ref _completed);
            }
        })));

        public void Stop() => _stopping = true;
    }
}
