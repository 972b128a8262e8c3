using Orleans.Networking.Shared;

namespace OrleansDsm.Hosting;

/// <summary>Orleans client settings that suit a shared memory's many small calls.</summary>
public static class ClientBuilderExtensions
{
    /// <summary>
    /// Runs socket completions on the thread pool directly instead of through Orleans' I/O queues (its
    /// <c>IOQueueCount</c> set to 0), saving a thread hop on every message. Measured on a 2-core machine, a page call's
    /// median latency fell from 50-52 to 44-46 us, and gets at 256 outstanding calls rose from 144,000 to 187,000 a
    /// second.
    /// <see cref="DsmClient.ConnectAsync"/> applies it; call it when you build the Orleans client yourself. Silos get
    /// the same setting from <c>AddSharedMemory</c>.
    /// </summary>
    public static IClientBuilder UseLowLatencySockets(this IClientBuilder client) =>
        client.Configure<SocketConnectionOptions>(sockets => sockets.IOQueueCount = 0);
}
