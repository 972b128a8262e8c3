using OrleansDsm.Connection;
using OrleansDsm.Pages;

namespace OrleansDsm.Tests.Atomics;

/// <summary>
/// A mutation whose outcome the client did not learn is sent again under the same request id, and the page returns
/// the original result instead of applying it twice.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class RetryTests(ClusterFixture fixture)
{
    [Fact]
    public async Task An_add_whose_response_was_lost_is_sent_again_and_applied_once()
    {
        var array = await fixture.Client.AllocateAsync<long>(UniqueNames.For("retried-add"), 512);
        await array.SetAsync(0, 100);

        ClusterFixture.LoseResponses(nameof(IPageGrain.Add), 1);
        Assert.Equal(105, await array.AddAsync(0, 5));

        Assert.Equal(0, ClusterFixture.ResponsesStillToLose(nameof(IPageGrain.Add)));
        Assert.Equal(105, await array.GetAsync(0));
    }

    [Fact]
    public async Task A_range_write_whose_response_was_lost_is_sent_again_and_applied_once()
    {
        var array = await fixture.Client.AllocateAsync<int>(UniqueNames.For("retried-range"), 1024);
        var page = fixture.Cluster.Client.GetGrain<IPageGrain>(array.Region.FirstPage);
        var values = Enumerable.Range(1, 100).ToArray();

        ClusterFixture.LoseResponses(nameof(IPageGrain.Write), 3);
        await array.WriteAsync(5, values);

        Assert.Equal(0, ClusterFixture.ResponsesStillToLose(nameof(IPageGrain.Write)));
        Assert.Equal(1, (await page.GetState()).Version); // four tries, one write
        var back = new int[100];
        await array.ReadAsync(5, back);
        Assert.Equal(values, back);
    }

    [Fact]
    public async Task A_cancellation_the_caller_did_not_ask_for_is_retried_and_one_it_asked_for_is_not()
    {
        var array = await fixture.Client.AllocateAsync<long>(UniqueNames.For("cancelled-by-cluster"), 512);

        ClusterFixture.CancelResponses(nameof(IPageGrain.Add), 1);
        Assert.Equal(5, await array.AddAsync(0, 5));
        Assert.Equal(5, await array.GetAsync(0));

        using var asked = new CancellationTokenSource();
        await asked.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => array.AddAsync(0, 5, asked.Token));
    }

    [Fact]
    public async Task Without_retries_a_lost_response_surfaces_and_the_mutation_was_still_applied_once()
    {
        // Without the direct channel, whose adds are no calls: the test loses a call's response.
        await using var impatient = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { RetryBudget = TimeSpan.Zero, DirectChannel = false });
        var array = await impatient.AllocateAsync<long>(UniqueNames.For("unretried-add"), 512);

        ClusterFixture.LoseResponses(nameof(IPageGrain.Add), 1);
        await Assert.ThrowsAsync<TimeoutException>(() => array.AddAsync(0, 5));

        Assert.Equal(5, await array.GetAsync(0));
    }

    [Fact]
    public async Task A_retry_that_comes_back_after_its_page_forgot_it_is_refused_not_applied_twice()
    {
        await using var slow = new DsmClient(fixture.Cluster.Client, new DsmClientOptions { RetryInterval = TimeSpan.FromSeconds(2), DirectChannel = false });
        var name = UniqueNames.For("forgotten");
        var counters = await slow.AllocateAsync<long>(name, 8, Consistency.Uncached);
        var others = await fixture.Client.OpenAsync<long>(name);
        ClusterFixture.LoseResponses(nameof(IPageGrain.Add), 1);

        var add = counters.AddAsync(0, 1000);
        await Task.Delay(300);
        Assert.Equal(0, ClusterFixture.ResponsesStillToLose(nameof(IPageGrain.Add)));
        for (var i = 0; i < OrleansDsm.Grains.Pages.PageState.RecentRequests + 4; i++) await others.AddAsync(0, 1);

        var error = await Assert.ThrowsAsync<RequestOutcomeForgottenException>(() => add);
        Assert.Contains("may have been applied", error.Message, StringComparison.Ordinal);
        Assert.Equal(1000 + OrleansDsm.Grains.Pages.PageState.RecentRequests + 4, await others.GetAsync(0));
    }

    [Fact]
    public async Task A_page_returns_the_original_result_to_a_request_it_already_applied()
    {
        var array = await fixture.Client.AllocateAsync<long>(UniqueNames.For("same-request"), 512);
        var page = fixture.Cluster.Client.GetGrain<IPageGrain>(array.Region.FirstPage);
        var request = new RequestId(Guid.NewGuid(), 7);

        var first = await page.Add(array.Region.Epoch, request, 0, NumericKind.Int64, 5);
        var again = await page.Add(array.Region.Epoch, request, 0, NumericKind.Int64, 5);
        var other = await page.Add(array.Region.Epoch, request with { Sequence = 8 }, 0, NumericKind.Int64, 5);

        Assert.Equal(first, again);
        Assert.Equal((5UL, 10UL), (first.Value, other.Value));
    }
}
