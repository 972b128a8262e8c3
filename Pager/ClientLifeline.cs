using System.Diagnostics;
using System.Globalization;
using OrleansDsm.Mapping;

namespace OrleansDsm.Pager;

/// <summary>
/// Ends the client when its faults can no longer be served, so that a load never waits for good. The pager ends it
/// itself when a fault fails (<see cref="End"/>). For the pager's own death (killed from outside, by the kernel's
/// out-of-memory killer say, or crashed) a watcher stands by while the client has a mapping: this program again, in a
/// process of its own (<see cref="Watch"/>), reading lines from a pipe only the pager writes to. At the end of that
/// pipe, which comes however the pager ends, the watcher kills the client unless the last line stood it down. The
/// client cannot watch for this itself: a thread of its own would stop with the rest at the next collection, which
/// waits for the thread stuck in the fault.
/// </summary>
internal sealed class ClientLifeline(int clientProcessId) : IDisposable
{
    /// <summary>The first argument that starts this program as a watcher; the second is the client's process id.</summary>
    public const string WatchArgument = "watch";

    private const int Sigkill = 9;
    private const string Armed = "armed", Disarmed = "disarmed";

    private readonly Lock _gate = new();
    private Process? _watcher;

    /// <summary>Has the watcher kill the client if the pager dies from now on (a mapping exists); starts it the first time.</summary>
    public void Arm() => Tell(Armed);

    /// <summary>Stands the watcher down: no mapping is left, so the pager's death would leave no fault waiting.</summary>
    public void Disarm() => Tell(Disarmed);

    /// <summary>
    /// A fault that cannot be served: a load cannot fail, and the faulting thread must never see a page that is not
    /// there, so the client is killed, after saying why on the standard error both share, and the pager ends.
    /// </summary>
    public void End(string why)
    {
        Disarm();
        Kill(clientProcessId, why);
        Environment.Exit(3);
    }

    /// <summary>
    /// The watcher's whole life: reads lines until its input ends, then kills <paramref name="client"/> if the last
    /// one was <c>armed</c>. Returns the exit code.
    /// </summary>
    public static int Watch(int client)
    {
        var state = Disarmed;
        while (Console.ReadLine() is { } line) state = line;
        if (state == Armed) Kill(client, "the pager process ended without a word (killed or crashed)");
        return 0;
    }

    private static void Kill(int client, string why)
    {
        Console.Error.WriteLine($"OrleansDsm pager: {why}; killing process {client}, which mapped the region, since a load from memory cannot fail.");
        LinuxMemory.kill(client, Sigkill);
    }

    private void Tell(string state)
    {
        lock (_gate)
        {
            if (_watcher is null && state == Disarmed) return;
            _watcher ??= StartWatcher();
            try
            {
                _watcher.StandardInput.WriteLine(state);
                _watcher.StandardInput.Flush();
            }
            catch (IOException)
            {
                // The watcher is gone (killed with the client's process group, say): nothing to tell.
            }
        }
    }

    private Process StartWatcher()
    {
        var start = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet")
        {
            RedirectStandardInput = true,
            // Its own pipe, never written: holding the pager's output open would keep the client from seeing its end.
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, PagerProcess.AssemblyName), WatchArgument, clientProcessId.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(argument);
        return Process.Start(start) ?? throw new IOException("The pager's watcher process did not start.");
    }

    /// <summary>Stands the watcher down and lets it end (the end of its input).</summary>
    public void Dispose()
    {
        Disarm();
        lock (_gate)
        {
            if (_watcher is null) return;
            try
            {
                _watcher.StandardInput.Close();
            }
            catch (IOException)
            {
                // Gone already.
            }
            _watcher.Dispose();
            _watcher = null;
        }
    }
}
