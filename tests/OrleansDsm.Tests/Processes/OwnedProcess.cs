using System.Diagnostics;

namespace OrleansDsm.Tests.Processes;

/// <summary>
/// A process a test started and owns: disposing it ends the process and its children if they still run, so a test that
/// fails midway (a worker left waiting for a line that never comes, say) leaves nothing behind.
/// </summary>
public sealed class OwnedProcess(Process process) : IDisposable
{
    public static OwnedProcess Start(ProcessStartInfo start) => new(Process.Start(start)!);

    public Process Process { get; } = process;

    public void Dispose()
    {
        try
        {
            if (!Process.HasExited) Process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Ended meanwhile.
        }
        Process.Dispose();
    }
}
