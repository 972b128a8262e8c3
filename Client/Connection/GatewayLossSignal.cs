using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace OrleansDsm.Connection;

/// <summary>
/// Cancels <see cref="Next"/> each time the client loses a gateway connection, and then once every
/// <see cref="EchoInterval"/> for <paramref name="echoFor"/> after it. Orleans answers a request only through the
/// gateway that took it, so a request in flight through a gateway that died never gets an answer and would fail only at
/// the client's response timeout; <see cref="TransientRetry"/> sends such requests again at once instead. The echoes
/// are for requests that a live gateway forwarded to the dead silo before the cluster declared it dead: they are lost
/// too, and the client sees no connection of its own fail for them.
/// </summary>
internal sealed class GatewayLossSignal(TimeSpan echoFor) : IClusterConnectionStatusObserver
{
    /// <summary>How often the signal repeats after a loss.</summary>
    public static readonly TimeSpan EchoInterval = TimeSpan.FromSeconds(1);

    private CancellationTokenSource _next = new();
    private long _echoUntil;
    private int _echoing;

    /// <summary>
    /// Registers one signal with the Orleans client of <paramref name="services"/>, which reports its gateway
    /// connections to it; it echoes for the client's response timeout, after which a lost request has failed anyway.
    /// </summary>
    public static void Register(IServiceCollection services)
    {
        services.AddSingleton(provider => new GatewayLossSignal(provider.GetRequiredService<IOptions<ClientMessagingOptions>>().Value.ResponseTimeout));
        services.AddSingleton<IClusterConnectionStatusObserver>(provider => provider.GetRequiredService<GatewayLossSignal>());
    }

    /// <summary>
    /// Cancelled at the next loss of a gateway connection, or echo of one, after it was read. A token, not a task: a
    /// call registers with it and unregisters in constant time, however many calls are in flight.
    /// </summary>
    public CancellationToken Next => Volatile.Read(ref _next).Token;

    public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered)
    {
        if (currentNumberOfGateways < previousNumberOfGateways) Lost();
    }

    public void NotifyClusterConnectionLost() => Lost();

    private void Lost()
    {
        Signal();
        Volatile.Write(ref _echoUntil, Environment.TickCount64 + (long)echoFor.TotalMilliseconds);
        if (Interlocked.Exchange(ref _echoing, 1) == 0) _ = EchoAsync();
    }

    private async Task EchoAsync()
    {
        while (true)
        {
            await Task.Delay(EchoInterval);
            Signal();
            if (Environment.TickCount64 < Volatile.Read(ref _echoUntil)) continue;
            Volatile.Write(ref _echoing, 0);
            // A loss that came just before the reset found the echo running and started none.
            if (Environment.TickCount64 >= Volatile.Read(ref _echoUntil) || Interlocked.Exchange(ref _echoing, 1) != 0) return;
        }
    }

    // The calls woken resume on the thread pool, not on Orleans' connection thread that reports the loss.
    private void Signal() => ThreadPool.UnsafeQueueUserWorkItem(static lost => lost.Cancel(), Interlocked.Exchange(ref _next, new()), preferLocal: false);
}
