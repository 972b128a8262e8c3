namespace OrleansDsm.Hosting;

/// <summary>Orleans client settings that suit a shared memory's many small calls.</summary>
public static class ClientBuilderExtensions
{
    /// <summary>
    /// Connects to gateways through the shared memory's socket transport instead of Orleans' own. It differs in the
    /// size of a receive: up to 64 KiB where Orleans takes 4 KiB at a time, which doubled 64 MiB range reads
    /// (470-510 to 870-890 MB/s) and raised uncached gets and sets at 16 outstanding calls by a sixth, in runs side by
    /// side on a 2-core machine (docs/performance.md gives the runs). Its socket completions run on the thread pool
    /// directly, a thread hop less per message than Orleans' I/O queues. <see cref="DsmClient.ConnectAsync"/> applies it; call it
    /// when you build the Orleans client yourself. Silos get the same transport from <c>AddSharedMemory</c>. Call it
    /// inside <c>UseOrleansClient</c>, which registers the transport it replaces.
    /// </summary>
    public static IClientBuilder UseLowLatencySockets(this IClientBuilder client) =>
        client.ConfigureServices(Networking.SocketTransport.Use);
}
