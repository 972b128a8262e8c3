using System.Diagnostics;
using System.Globalization;
using OrleansDsm.Mapping;

namespace OrleansDsm.Pager;

/// <summary>
/// Ends the client when its faults can no longer be served, so that a load never waits for good. The pager ends it
/// itself when a fault fails (<see cref="End"/>). For the pager's own death (killed from outside, by the kernel's
/// out-of-memory killer say, or crashed) a watcher process stands by while the client has a mapping: a shell that
/// reads lines from a pipe only the pager writes to. At the end of that pipe, which comes however the pager ends, the
/// watcher kills the client unless the last line stood it down. The client cannot watch for this itself: a thread
/// of its own would stop with the rest at the next collection, which waits for the thread stuck in the fault.
/// </summary>
internal sealed class ClientLifeline(int clientProcessId) : IDisposable
{
    private const int Sigkill = 9;

    // $1 is the client's process id. The last line read decides: "armed" while a mapping exists.
    private const string WatcherScript = """
        state=disarmed
        while IFS= read -r line; do state=$line; done
        if [ "$state" = armed ]; then
          echo "OrleansDsm pager: the pager process ended without a word (killed or crashed); killing process $1, which mapped regions it served, since a load from memory cannot fail." >&2
          kill -9 "$1"
        fi
        """;

    private readonly Lock _gate = new();
    private Process? _watcher;

    /// <summary>Has the watcher kill the client if the pager dies from now on (a mapping exists); starts it the first time.</summary>
    public void Arm() => Tell("armed");

    /// <summary>Stands the watcher down: no mapping is left, so the pager's death would leave no fault waiting.</summary>
    public void Disarm() => Tell("disarmed");

    /// <summary>
    /// A fault that cannot be served: a load cannot fail, and the faulting thread must never see a page that is not
    /// there, so the client is killed, after saying why on the standard error both share, and the pager ends.
    /// </summary>
    public void End(string why)
    {
        Disarm();
        Console.Error.WriteLine($"OrleansDsm pager: {why}; killing process {clientProcessId}, which mapped the region, since a load from memory cannot fail.");
        LinuxMemory.kill(clientProcessId, Sigkill);
        Environment.Exit(3);
    }

    private void Tell(string state)
    {
        lock (_gate)
        {
            if (_watcher is null && state == "disarmed") return;
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
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true,
            // Its own pipe, never read: holding the pager's output open would keep the client from seeing its end.
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-c", WatcherScript, "orleans-dsm-watcher", clientProcessId.ToString(CultureInfo.InvariantCulture) })
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
