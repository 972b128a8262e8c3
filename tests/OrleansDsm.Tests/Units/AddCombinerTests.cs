using OrleansDsm.Arrays;

namespace OrleansDsm.Tests.Units;

/// <summary>
/// The add combiner on its own, with a page it controls: adds that overlap an add in flight go out as one add of
/// their sum, each caller gets the value its own add left, and a cancelled caller or a failed call affects only those it should.
/// </summary>
public sealed class AddCombinerTests
{
    /// <summary>A page of one 64-bit element whose add calls complete when the test says.</summary>
    private sealed class SlowPage
    {
        private readonly Queue<TaskCompletionSource> _calls = new();
        public ulong Value;
        public List<ulong> Sent { get; } = [];

        public async Task<ulong> AddAsync(long page, int offset, ulong delta, CancellationToken cancellation)
        {
            var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_calls)
            {
                Sent.Add(delta);
                _calls.Enqueue(answer);
            }
            await answer.Task;
            return Value += delta;
        }

        public void Answer(Exception? error = null)
        {
            TaskCompletionSource next;
            lock (_calls) next = _calls.Dequeue();
            if (error is null) next.SetResult();
            else next.SetException(error);
        }

        public int Waiting
        {
            get
            {
                lock (_calls) return _calls.Count;
            }
        }
    }

    [Fact]
    public async Task Adds_behind_one_in_flight_go_out_as_one_add_and_each_caller_gets_its_own_value()
    {
        var page = new SlowPage();
        var adds = new AddCombiner(page.AddAsync);
        var first = adds.AddAsync(0, 0, 1, CancellationToken.None);
        var behind = new[] { 10UL, 100UL, 1000UL }.Select(delta => adds.AddAsync(0, 0, delta, CancellationToken.None)).ToArray();

        page.Answer();
        await WaitUntil(() => page.Waiting == 1);
        page.Answer();

        Assert.Equal(1UL, await first);
        Assert.Equal(new ulong[] { 11, 111, 1111 }, await Task.WhenAll(behind));
        Assert.Equal([1UL, 1110UL], page.Sent);
    }

    [Fact]
    public async Task Integer_values_wrap_as_the_page_wraps_them()
    {
        var page = new SlowPage { Value = ulong.MaxValue - 1 };
        var adds = new AddCombiner(page.AddAsync);
        var first = adds.AddAsync(0, 0, 1, CancellationToken.None);
        var behind = new[] { 1UL, 1UL, 5UL }.Select(delta => adds.AddAsync(0, 0, delta, CancellationToken.None)).ToArray();

        page.Answer();
        await WaitUntil(() => page.Waiting == 1);
        page.Answer();

        Assert.Equal(ulong.MaxValue, await first);
        Assert.Equal(new ulong[] { 0, 1, 6 }, await Task.WhenAll(behind));
    }

    [Fact]
    public async Task A_caller_cancelled_before_its_batch_goes_out_is_left_out_of_it()
    {
        var page = new SlowPage();
        var adds = new AddCombiner(page.AddAsync);
        var first = adds.AddAsync(0, 0, 1, CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var cancelled = adds.AddAsync(0, 0, 50, cancel.Token);
        var kept = adds.AddAsync(0, 0, 7, CancellationToken.None);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        page.Answer();
        await WaitUntil(() => page.Waiting == 1);
        page.Answer();

        Assert.Equal(1UL, await first);
        Assert.Equal(8UL, await kept);
        Assert.Equal([1UL, 7UL], page.Sent);
    }

    [Fact]
    public async Task A_failed_combined_add_fails_every_caller_in_it_and_the_next_batch_still_goes_out()
    {
        var page = new SlowPage();
        var adds = new AddCombiner(page.AddAsync);
        var first = adds.AddAsync(0, 0, 1, CancellationToken.None);
        var failing = new[] { adds.AddAsync(0, 0, 2, CancellationToken.None), adds.AddAsync(0, 0, 3, CancellationToken.None) };

        page.Answer();
        await first;
        await WaitUntil(() => page.Waiting == 1);
        var later = adds.AddAsync(0, 0, 4, CancellationToken.None);
        page.Answer(new TimeoutException("page unreachable"));
        foreach (var add in failing) Assert.Equal("page unreachable", (await Assert.ThrowsAsync<TimeoutException>(() => add)).Message);
        await WaitUntil(() => page.Waiting == 1);
        page.Answer();

        Assert.Equal(5UL, await later);
        Assert.Equal([1UL, 5UL, 4UL], page.Sent);
    }

    [Fact]
    public async Task Adds_to_different_elements_are_not_combined()
    {
        var page = new SlowPage();
        var adds = new AddCombiner(page.AddAsync);
        var calls = new[] { adds.AddAsync(0, 0, 1, CancellationToken.None), adds.AddAsync(0, 8, 2, CancellationToken.None), adds.AddAsync(1, 0, 3, CancellationToken.None) };

        Assert.Equal(3, page.Waiting);
        for (var i = 0; i < 3; i++) page.Answer();
        await Task.WhenAll(calls);
        Assert.Equal([1UL, 2UL, 3UL], page.Sent);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (var waited = 0; !condition(); waited += 10)
        {
            if (waited > 5000) throw new TimeoutException("The combiner did not send the next batch.");
            await Task.Delay(10);
        }
    }
}
