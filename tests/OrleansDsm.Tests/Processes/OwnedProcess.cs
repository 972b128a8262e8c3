using System.Diagnostics;

namespace OrleansDsm.Tests.Processes;

/// <summary>
/// A process a test started and owns: disposing it ends the process and its children if they still run, so a test that
/// fails midway (a worker left waiting for a line that never comes, say) leaves nothing behind.
/// </summary>
public sealed class OwnedProcess(Process process) : IDisposable
{
    /// <summary>Starts the test worker on <paramref name="arguments"/>, with its input the test's to write.</summary>
    public static OwnedProcess StartWorker(params string[] arguments)
    {
        var start = BuiltPrograms.Dotnet(BuiltPrograms.WorkerDll, arguments);
        start.RedirectStandardInput = true;
        return new(Process.Start(start)!);
    }

    public Process Process { get; } = process;

    /// <summary>All the process writes on its standard error, read from the start so that it never fills the pipe.</summary>
    public Task<string> ErrorOutput { get; } = process.StandardError.ReadToEndAsync();

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
