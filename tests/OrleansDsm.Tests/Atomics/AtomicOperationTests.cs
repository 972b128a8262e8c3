namespace OrleansDsm.Tests.Atomics;

/// <summary>Atomics run inside the page grain with the conventions of <c>Interlocked</c>.</summary>
[Collection(ClusterCollection.Name)]
public sealed class AtomicOperationTests(ClusterFixture fixture)
{
    private DsmClient Client => fixture.Client;

    [Fact]
    public async Task Concurrent_adds_from_many_tasks_end_exact()
    {
        var counters = await Client.AllocateAsync<long>(UniqueNames.For("adds"), 2);
        const int tasks = 32, addsPerTask = 50;

        var returned = await Task.WhenAll(Enumerable.Range(0, tasks).Select(async _ =>
        {
            var seen = new List<long>();
            for (var i = 0; i < addsPerTask; i++) seen.Add(await counters.AddAsync(1, 3));
            return seen;
        }));

        Assert.Equal(3L * tasks * addsPerTask, await counters.GetAsync(1));
        // Every add returned a distinct new value: none was lost or applied twice.
        Assert.Equal(tasks * addsPerTask, returned.SelectMany(seen => seen).Distinct().Count());
    }

    [Fact]
    public async Task Overlapping_integer_adds_of_one_handle_share_calls_and_each_returns_its_own_value()
    {
        var counter = await Client.AllocateAsync<long>(UniqueNames.For("combined"), 1);
        const int tasks = 64, addsPerTask = 20;
        var calls = ClusterFixture.PageCalls(nameof(OrleansDsm.Pages.IPageGrain.Add));

        var returned = await Task.WhenAll(Enumerable.Range(0, tasks).Select(async _ =>
        {
            var seen = new List<long>();
            for (var i = 0; i < addsPerTask; i++) seen.Add(await counter.AddAsync(0, 1));
            return seen;
        }));

        // Adds of 1 from 0: the values returned are exactly 1..N, each once, as if the adds had run one at a time.
        Assert.Equal(Enumerable.Range(1, tasks * addsPerTask).Select(i => (long)i), returned.SelectMany(seen => seen).Order());
        Assert.Equal(tasks * addsPerTask, await counter.GetAsync(0));
        Assert.InRange(ClusterFixture.PageCalls(nameof(OrleansDsm.Pages.IPageGrain.Add)) - calls, 1, tasks * addsPerTask / 2);
    }

    [Fact]
    public async Task Floating_point_adds_are_never_combined()
    {
        var sums = await Client.AllocateAsync<double>(UniqueNames.For("float-adds"), 1);
        const int adds = 40;
        var calls = ClusterFixture.PageCalls(nameof(OrleansDsm.Pages.IPageGrain.Add));

        await Task.WhenAll(Enumerable.Range(0, adds).Select(_ => sums.AddAsync(0, 0.5)));

        Assert.Equal(adds * 0.5, await sums.GetAsync(0));
        Assert.Equal(adds, ClusterFixture.PageCalls(nameof(OrleansDsm.Pages.IPageGrain.Add)) - calls);
    }

    [Fact]
    public async Task Add_follows_interlocked_conventions_for_every_numeric_type()
    {
        var ints = await Client.AllocateAsync<int>(UniqueNames.For("i32"), 1);
        await ints.SetAsync(0, int.MaxValue);
        Assert.Equal(int.MinValue, await ints.AddAsync(0, 1));

        var uints = await Client.AllocateAsync<uint>(UniqueNames.For("u32"), 1);
        Assert.Equal(uint.MaxValue, await uints.AddAsync(0, uint.MaxValue));

        var ulongs = await Client.AllocateAsync<ulong>(UniqueNames.For("u64"), 1);
        Assert.Equal(ulong.MaxValue - 1, await ulongs.AddAsync(0, ulong.MaxValue - 1));

        var floats = await Client.AllocateAsync<float>(UniqueNames.For("f32"), 1);
        await floats.SetAsync(0, 1.25f);
        Assert.Equal(3.75f, await floats.AddAsync(0, 2.5f));

        var doubles = await Client.AllocateAsync<double>(UniqueNames.For("f64"), 1);
        Assert.Equal(-0.5, await doubles.AddAsync(0, -0.5));
        Assert.Equal(-0.5, await doubles.GetAsync(0));
    }

    [Fact]
    public async Task Exchange_and_compare_exchange_return_the_original_and_compare_bitwise()
    {
        var doubles = await Client.AllocateAsync<double>(UniqueNames.For("cas"), 4);
        await doubles.SetAsync(0, 1.0);
        Assert.Equal(1.0, await doubles.ExchangeAsync(0, 2.0));
        Assert.Equal(2.0, await doubles.GetAsync(0));

        Assert.Equal(2.0, await doubles.CompareExchangeAsync(0, 5.0, comparand: 3.0));
        Assert.Equal(2.0, await doubles.GetAsync(0));
        Assert.Equal(2.0, await doubles.CompareExchangeAsync(0, 5.0, comparand: 2.0));
        Assert.Equal(5.0, await doubles.GetAsync(0));

        // 0.0 == -0.0 numerically, but not bit for bit.
        Assert.Equal(0.0, await doubles.CompareExchangeAsync(1, 9.0, comparand: -0.0));
        Assert.Equal(0.0, await doubles.GetAsync(1));
        await doubles.SetAsync(2, double.NaN);
        Assert.True(double.IsNaN(await doubles.CompareExchangeAsync(2, 4.0, comparand: double.NaN)));
        Assert.Equal(4.0, await doubles.GetAsync(2));
    }

    [Fact]
    public async Task Compare_exchange_as_a_spin_lock_protects_a_plain_counter()
    {
        var name = UniqueNames.For("spinlock");
        var cells = await Client.AllocateAsync<int>(name, 2048); // lock at 0; counter on another page at 1500
        const int workers = 8, incrementsPerWorker = 15;

        await Task.WhenAll(Enumerable.Range(1, workers).Select(async worker =>
        {
            for (var i = 0; i < incrementsPerWorker; i++)
            {
                while (await cells.CompareExchangeAsync(0, worker, comparand: 0) != 0) await Task.Yield();
                // Read-modify-write in two calls: only the lock makes it safe.
                var value = await cells.GetAsync(1500);
                await cells.SetAsync(1500, value + 1);
                Assert.Equal(worker, await cells.ExchangeAsync(0, 0));
            }
        }));

        Assert.Equal(workers * incrementsPerWorker, await cells.GetAsync(1500));
        Assert.Equal(0, await cells.GetAsync(0));
    }
}
