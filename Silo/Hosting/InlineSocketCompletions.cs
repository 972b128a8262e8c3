namespace OrleansDsm.Silo.Hosting;

/// <summary>
/// Has a silo process run its sockets' completions on the runtime's socket event threads, one per core, instead of
/// handing each to the thread pool: a call then waits for one thread hop fewer on the silo's side. With the bench silo
/// switched in turn (<c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0 bench/run.sh --only ElementLatency</c> against
/// the same without the variable, 12 pairs), the median of the pairs' uncached get p50 fell from 1.68x to 1.59x Redis
/// GET, lower in 11 of the 12 pairs, and set from 1.92x to 1.83x Redis SET, lower in 10; throughput at 1, 16 and 256
/// outstanding calls, the Zipf mix, a write to a page cached by another client and 64 MiB range copies stayed within
/// the noise.
/// <para>The runtime reads its switch, an environment variable, once, when the process opens its first socket, so this
/// must run before anything does. The switch covers every socket of the process: Orleans' connections, whose transport
/// hands received bytes on through a pipe that runs Orleans on the thread pool (grain code runs on Orleans' scheduler),
/// and also Npgsql's and the dashboard's, whose continuations are short and do not block. An operator who sets the
/// variable keeps that choice.</para>
/// </summary>
public static class InlineSocketCompletions
{
    /// <summary>The runtime's switch: "1" runs completions on the event threads.</summary>
    public const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>Turns inline completions on for this process unless <see cref="Variable"/> is set already.</summary>
    public static void EnableUnlessSet()
    {
        if (Environment.GetEnvironmentVariable(Variable) is null) Environment.SetEnvironmentVariable(Variable, "1");
    }
}
