using OrleansDsm.Backups;
using OrleansDsm.Barriers;
using OrleansDsm.Locks;
using OrleansDsm.Pages;

namespace OrleansDsm.Tests.Regions;

/// <summary>
/// The grains check their own input, not only the client library in front of them: an app calling them through a plain
/// Orleans client, or a client of another build, gets an error that names what was wrong, and nothing changes.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class RawGrainCallTests(ClusterFixture fixture)
{
    private IClusterClient Grains => fixture.Cluster.Client;

    [Fact]
    public async Task An_allocation_without_an_element_type_or_with_an_invalid_model_is_refused_and_reserves_nothing()
    {
        var directory = Grains.GetGrain<IRegionDirectoryGrain>(0);
        var before = await directory.GetState();
        AllocationRequest Request(string type, Consistency consistency) => new(UniqueNames.For("raw-alloc"), type, 8, 10, consistency);

        var untyped = await Assert.ThrowsAsync<ArgumentException>(() => directory.Allocate(Request(" ", Consistency.Strict)));
        Assert.Contains("element type must be named", untyped.Message);
        var unbounded = Consistency.Strict with { Kind = ConsistencyKind.Bounded, MaxStaleness = TimeSpan.Zero };
        var stale = await Assert.ThrowsAsync<ArgumentException>(() => directory.Allocate(Request("int64", unbounded)));
        Assert.Contains("Bounded(00:00:00) is not valid", stale.Message);
        var unknown = await Assert.ThrowsAsync<ArgumentException>(() => directory.Allocate(Request("int64", Consistency.Strict with { Kind = (ConsistencyKind)42 })));
        Assert.Contains("is not valid", unknown.Message);

        var after = await directory.GetState();
        Assert.Equal(before.ReservedBytes, after.ReservedBytes);
        Assert.Equal(before.Regions, after.Regions);
    }

    [Fact]
    public async Task A_batch_write_whose_pieces_do_not_match_its_spans_writes_nothing()
    {
        var array = await fixture.Client.AllocateAsync<byte>(UniqueNames.For("raw-batch"), 4096, Consistency.Uncached);
        await array.SetAsync(0, 1);
        var page = array.Region.FirstPage;
        var before = await Grains.GetGrain<IPageGrain>(page).GetState();
        var batch = Grains.GetGrain<IPageBatchGrain>(0);
        PageSpan[] spans = [new PageSpan(page, 0, 8), new PageSpan(page, 100, 4)];

        var fewer = await Assert.ThrowsAsync<ArgumentException>(() => batch.Write(array.Region.Epoch, NewRequest(), spans, [new byte[8]]));
        Assert.Contains("2 spans were sent with 1 pieces", fewer.Message);
        var shorter = await Assert.ThrowsAsync<ArgumentException>(() => batch.Write(array.Region.Epoch, NewRequest(), spans, [new byte[8], new byte[3]]));
        Assert.Contains("Span 1 covers 4 bytes but its piece holds 3", shorter.Message);
        var missing = await Assert.ThrowsAsync<ArgumentException>(() => batch.Write(array.Region.Epoch, NewRequest(), spans, [new byte[8], null!]));
        Assert.Contains("its piece holds none", missing.Message);

        Assert.Equal(before.Version, (await Grains.GetGrain<IPageGrain>(page).GetState()).Version);
        Assert.Equal(1, await array.GetAsync(0));
    }

    [Fact]
    public async Task A_write_of_runs_without_runs_or_bytes_writes_nothing()
    {
        var array = await fixture.Client.AllocateAsync<byte>(UniqueNames.For("raw-runs"), 4096, Consistency.Uncached);
        await array.SetAsync(0, 1);
        var page = Grains.GetGrain<IPageGrain>(array.Region.FirstPage);
        var before = await page.GetState();

        var none = await Assert.ThrowsAsync<ArgumentException>(() => page.WriteRuns(array.Region.Epoch, NewRequest(), []));
        Assert.Contains("at least one run", none.Message);
        var empty = await Assert.ThrowsAsync<ArgumentException>(() => page.WriteRuns(array.Region.Epoch, NewRequest(), [new ByteRun(0, [9]), new ByteRun(64, null!)]));
        Assert.Contains("The run at offset 64 has no bytes", empty.Message);

        Assert.Equal(before.Version, (await page.GetState()).Version);
        Assert.Equal(1, await array.GetAsync(0));
    }

    [Fact]
    public async Task Locks_and_barriers_refuse_an_empty_holder_or_party_and_stay_free()
    {
        var name = UniqueNames.For("raw-sync");
        var lease = TimeSpan.FromSeconds(5);
        var holder = await Assert.ThrowsAsync<ArgumentException>(() => Grains.GetGrain<ILockGrain>(name).TryAcquire(Guid.Empty, Guid.NewGuid(), lease, TimeSpan.Zero));
        Assert.Contains("holder is a non-empty session id", holder.Message);
        Assert.NotNull(await Grains.GetGrain<ILockGrain>(name).TryAcquire(Guid.NewGuid(), Guid.NewGuid(), lease, TimeSpan.Zero));

        var barrier = Grains.GetGrain<IBarrierGrain>(name);
        var party = await Assert.ThrowsAsync<ArgumentException>(() => barrier.Arrive(Guid.Empty, 1, -1, lease, TimeSpan.Zero));
        Assert.Contains("party is a non-empty id", party.Message);
        // The refused arrival counted for nothing: a one-party barrier's first real arrival is its generation 0.
        Assert.Equal(new BarrierArrival(0, Passed: true), await barrier.Arrive(Guid.NewGuid(), 1, -1, lease, lease));
    }

    [Fact]
    public async Task A_backup_read_before_it_began_or_begun_and_ended_under_another_run_is_refused()
    {
        var run = Guid.NewGuid();
        var backup = Grains.GetGrain<IBackupGrain>(run);
        var unbegun = await Assert.ThrowsAsync<InvalidOperationException>(() => backup.Next(16));
        Assert.Contains("Call Begin before Next", unbegun.Message);
        var other = Guid.NewGuid();
        foreach (var call in new Func<Task>[] { () => backup.Begin(other), () => backup.End(other) })
        {
            var refused = await Assert.ThrowsAsync<ArgumentException>(call);
            Assert.Contains($"Backup run {other} was asked of the grain of run {run}", refused.Message);
        }
    }

    private static RequestId NewRequest() => new(Guid.NewGuid(), 1);
}
