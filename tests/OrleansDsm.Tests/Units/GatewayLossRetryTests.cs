using OrleansDsm.Connection;

namespace OrleansDsm.Tests.Units;

/// <summary>
/// A call in flight when the client loses a gateway connection may never be answered (Orleans answers through the
/// gateway that took the request), so it is sent again at once instead of after the response timeout.
/// </summary>
public sealed class GatewayLossRetryTests
{
    private static readonly TimeSpan Budget = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(10);

    [Fact]
    public async Task A_call_in_flight_when_a_gateway_connection_is_lost_is_sent_again_as_a_retry()
    {
        var signal = new GatewayLossSignal(TimeSpan.Zero);
        var (call, attempts) = FirstAttemptUnanswered();
        var result = new TransientRetry(Budget, Interval, signal).RunAsync(call, CancellationToken.None);
        await Task.Delay(100);
        Assert.False(result.IsCompleted);

        signal.NotifyGatewayCountChanged(1, 2, connectionRecovered: false);

        Assert.Equal(42, await result.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal([false, true], attempts);
    }

    [Fact]
    public async Task Losing_the_whole_cluster_sends_calls_in_flight_again_too()
    {
        var signal = new GatewayLossSignal(TimeSpan.Zero);
        var (call, attempts) = FirstAttemptUnanswered();
        var result = new TransientRetry(Budget, Interval, signal).RunAsync(call, CancellationToken.None);
        await Task.Delay(100);

        signal.NotifyClusterConnectionLost();

        Assert.Equal(42, await result.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal([false, true], attempts);
    }

    [Fact]
    public async Task A_gateway_joining_sends_nothing_again()
    {
        var signal = new GatewayLossSignal(TimeSpan.Zero);
        var answer = new TaskCompletionSource<int>();
        var attempts = 0;
        var result = new TransientRetry(Budget, Interval, signal).RunAsync(_ => { attempts++; return answer.Task; }, CancellationToken.None);

        signal.NotifyGatewayCountChanged(2, 1, connectionRecovered: true);
        await Task.Delay(100);
        answer.SetResult(7);

        Assert.Equal(7, await result);
        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task A_call_answered_before_a_loss_is_not_sent_again_by_it()
    {
        var signal = new GatewayLossSignal(TimeSpan.Zero);
        var attempts = 0;
        var retry = new TransientRetry(Budget, Interval, signal);

        Assert.Equal(5, await retry.RunAsync(_ => { attempts++; return Task.FromResult(5); }, CancellationToken.None));
        signal.NotifyGatewayCountChanged(0, 1, connectionRecovered: false);
        await Task.Delay(50);

        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task Without_a_retry_budget_the_call_fails_with_a_timeout_that_says_why()
    {
        var signal = new GatewayLossSignal(TimeSpan.Zero);
        var (call, attempts) = FirstAttemptUnanswered();
        var result = new TransientRetry(TimeSpan.Zero, Interval, signal).RunAsync(call, CancellationToken.None);
        await Task.Delay(100);

        signal.NotifyGatewayCountChanged(1, 2, connectionRecovered: false);

        var error = await Assert.ThrowsAsync<TimeoutException>(() => result.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("lost a gateway connection", error.Message, StringComparison.Ordinal);
        Assert.Equal([false], attempts);
    }

    [Fact]
    public async Task A_call_sent_just_after_a_loss_is_sent_again_by_its_echo()
    {
        var signal = new GatewayLossSignal(TimeSpan.FromSeconds(10));
        signal.NotifyGatewayCountChanged(1, 2, connectionRecovered: false);
        var (call, attempts) = FirstAttemptUnanswered();

        var result = new TransientRetry(Budget, Interval, signal).RunAsync(call, CancellationToken.None);

        Assert.Equal(42, await result.WaitAsync(GatewayLossSignal.EchoInterval * 5));
        Assert.Equal([false, true], attempts);
    }

    [Fact]
    public async Task The_echoes_stop_once_their_time_after_the_last_loss_is_over()
    {
        var signal = new GatewayLossSignal(TimeSpan.FromMilliseconds(200));
        signal.NotifyGatewayCountChanged(1, 2, connectionRecovered: false);
        await Task.Delay(GatewayLossSignal.EchoInterval * 2.5);
        var (call, attempts) = FirstAttemptUnanswered();

        var result = new TransientRetry(Budget, Interval, signal).RunAsync(call, CancellationToken.None);
        await Task.Delay(GatewayLossSignal.EchoInterval * 2.5);

        Assert.False(result.IsCompleted);
        Assert.Equal([false], attempts);
    }

    [Fact]
    public async Task A_wait_for_another_callers_attempt_stops_at_a_loss_so_the_waiter_can_send_its_own()
    {
        var signal = new GatewayLossSignal(TimeSpan.Zero);
        var retry = new TransientRetry(Budget, Interval, signal);
        var (unanswered, answered) = (new TaskCompletionSource(), new TaskCompletionSource());
        using var caller = new CancellationTokenSource();
        var waits = new[] { retry.WaitForAsync(unanswered.Task, CancellationToken.None), retry.WaitForAsync(unanswered.Task, caller.Token) };
        var served = retry.WaitForAsync(answered.Task, CancellationToken.None);
        answered.SetResult();
        await served.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(100);
        Assert.DoesNotContain(waits, wait => wait.IsCompleted);

        signal.NotifyGatewayCountChanged(1, 2, connectionRecovered: false);

        foreach (var wait in waits)
        {
            var error = await Assert.ThrowsAsync<TimeoutException>(() => wait.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Contains("lost a gateway connection", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_wait_for_another_callers_attempt_that_its_caller_cancels_reports_the_cancellation()
    {
        var retry = new TransientRetry(Budget, Interval, new GatewayLossSignal(TimeSpan.Zero));
        using var caller = new CancellationTokenSource();
        var wait = retry.WaitForAsync(new TaskCompletionSource().Task, caller.Token);

        caller.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    /// <summary>A call whose first attempt is never answered and whose later ones answer 42, and the retry flag of each attempt.</summary>
    private static (Func<bool, Task<int>> Call, List<bool> Attempts) FirstAttemptUnanswered()
    {
        var attempts = new List<bool>();
        var unanswered = new TaskCompletionSource<int>();
        return (again =>
        {
            lock (attempts) attempts.Add(again);
            return again ? Task.FromResult(42) : unanswered.Task;
        }, attempts);
    }
}
