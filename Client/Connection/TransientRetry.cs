using System.Diagnostics;
using OrleansDsm.Errors;

namespace OrleansDsm.Connection;

/// <summary>
/// Sends a page call again while it fails for a reason that passes: a silo or gateway that died or is being declared
/// dead, a message that was rejected, a response that did not come, a placement that timed out (Polly's
/// <see cref="Polly.Timeout.TimeoutRejectedException"/>, alone or wrapped: Orleans 10 bounds each grain placement
/// with a Polly timeout, which a placement outlasts while a silo cut off is not yet declared dead; the silo admits
/// the exception's namespace so that it reaches the client, see <c>AddSharedMemory</c>), a database that did not
/// answer. Mutations are sent again under their original <see cref="Pages.RequestId"/>, so a page that applied one
/// returns its result instead of applying it twice. Anything else (a freed region, bad input) fails at once. With a
/// <see cref="GatewayLossSignal"/>, a call in flight when the client loses a gateway connection is sent again at
/// once, without waiting for an answer that went with the gateway; it may have gone through another, so it may still
/// be applied too (once, by its id).
/// </summary>
internal sealed class TransientRetry(TimeSpan budget, TimeSpan interval, GatewayLossSignal? gatewayLoss = null)
{
    /// <summary>
    /// Runs <paramref name="call"/>, which must be safe to have in flight twice: an attempt in flight when a gateway
    /// connection is lost may still act after the next was sent.
    /// </summary>
    public Task<T> RunAsync<T>(Func<Task<T>> call, CancellationToken cancellation) => RunAsync(_ => call(), cancellation);

    /// <summary>Runs <paramref name="call"/>, telling it whether this attempt is a retry, so a mutation can mark its id.</summary>
    public async Task<T> RunAsync<T>(Func<bool, Task<T>> call, CancellationToken cancellation)
    {
        var started = Stopwatch.GetTimestamp();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // Read before the call is sent, so that a loss while it is sent counts too.
                var lost = gatewayLoss?.Next ?? default;
                var sent = call(attempt > 1);
                if (lost.CanBeCanceled && !sent.IsCompleted)
                {
                    try
                    {
                        await ((Task)sent).WaitAsync(lost);
                    }
                    catch (OperationCanceledException) when (lost.IsCancellationRequested)
                    {
                    }
                    if (!sent.IsCompleted)
                    {
                        // Its outcome is unknown, as after a timeout; a mutation sent again keeps its id.
                        _ = sent.ContinueWith(static abandoned => abandoned.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
                        throw new TimeoutException("The client lost a gateway connection while this call was in flight, so its answer may never come.");
                    }
                }
                return await sent;
            }
            catch (Exception caught)
            {
                // Orleans wraps what a page's storage reported (a damaged record, say); the caller gets our error itself.
                Exception error = Inside<DsmException>(caught) ?? caught;
                // A first failure is always tried again: a timeout alone may use up the budget.
                // A cancellation the caller did not ask for came from the cluster (a silo cancels a directory lookup
                // when membership changes under it): it passes like the change itself.
                var transient = IsTransient(error) || error is OperationCanceledException && !cancellation.IsCancellationRequested;
                var again = transient && !cancellation.IsCancellationRequested && budget > TimeSpan.Zero
                            && (attempt == 1 || Stopwatch.GetElapsedTime(started) + interval < budget);
                if (!again) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
            }
            await Task.Delay(interval, cancellation);
        }
    }

    /// <summary>
    /// Waits for <paramref name="attempt"/>, a call another caller sent, unless the client loses a gateway connection
    /// first: that call's answer may then never come (its sender sends it again), so this caller stops waiting with a
    /// <see cref="TimeoutException"/> and can send its own.
    /// </summary>
    public async Task WaitForAsync(Task attempt, CancellationToken cancellation)
    {
        var lost = gatewayLoss?.Next ?? default;
        if (!lost.CanBeCanceled || attempt.IsCompleted)
        {
            await attempt.WaitAsync(cancellation);
            return;
        }
        using var either = cancellation.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellation, lost) : null;
        try
        {
            await attempt.WaitAsync(either?.Token ?? lost);
        }
        catch (OperationCanceledException) when (lost.IsCancellationRequested && !cancellation.IsCancellationRequested)
        {
            throw new TimeoutException("The client lost a gateway connection while the call waited for was in flight, so its answer may never come.");
        }
    }

    public Task RunAsync(Func<Task> call, CancellationToken cancellation) => RunAsync(async () =>
    {
        await call();
        return true;
    }, cancellation);

    /// <summary><paramref name="error"/> itself if it is a <typeparamref name="T"/>, else the first of its inner exceptions that is.</summary>
    private static T? Inside<T>(Exception error) where T : Exception
    {
        for (Exception? cause = error; cause is not null; cause = cause.InnerException)
            if (cause is T found) return found;
        return null;
    }

    private static bool IsTransient(Exception error) =>
        // A gateway that died refuses the connection (ConnectionFailedException); the next try goes through another.
        error is TimeoutException or SiloUnavailableException or OrleansMessageRejectionException or Orleans.Runtime.Messaging.ConnectionFailedException
            or Orleans.Storage.InconsistentStateException or StorageUnavailableException
            or SiloNotServingException
        || Inside<Polly.Timeout.TimeoutRejectedException>(error) is not null;
}
