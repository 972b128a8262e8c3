using System.Diagnostics;

namespace OrleansDsm.Samples;

/// <summary>Runs a worker: this same program as another process, with the arguments its coordinator gives it.</summary>
internal static class WorkerProcess
{
    private static readonly TimeSpan LongestRun = TimeSpan.FromMinutes(10);

    /// <summary>Runs the worker to its end and returns the traffic it reported.</summary>
    /// <exception cref="InvalidOperationException">It exited with an error, reported no traffic, or ran too long.</exception>
    public static async Task<Traffic> RunAsync(IEnumerable<string> arguments)
    {
        var start = Self();
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        (start.RedirectStandardOutput, start.RedirectStandardError, start.UseShellExecute) = (true, true, false);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Cannot start {start.FileName}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(LongestRun);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"A worker ran longer than {LongestRun.TotalMinutes} minutes and was stopped.");
        }
        var output = await stdout;
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"A worker exited with code {process.ExitCode}: {(await stderr).Trim()}");
        return Traffic.FromOutput(output) ?? throw new InvalidOperationException($"A worker reported no traffic; it printed: {output.Trim()}");
    }

    /// <summary>How to start this program again: its apphost, or <c>dotnet</c> with its assembly.</summary>
    private static ProcessStartInfo Self()
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("This process does not know its own path.");
        if (!Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase)) return new ProcessStartInfo(host);
        var start = new ProcessStartInfo(host);
        start.ArgumentList.Add(System.Reflection.Assembly.GetEntryAssembly()!.Location);
        return start;
    }
}
