using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace OrleansDsm.Tests.Processes;

/// <summary>Finds the programs the solution built beside this test assembly, and runs them as real processes.</summary>
public static class BuiltPrograms
{
    private static readonly DirectoryInfo TestOutput = new(AppContext.BaseDirectory);

    /// <summary>Debug or Release, whichever this test assembly was built as.</summary>
    private static string Configuration => TestOutput.Parent!.Name;

    private static string Framework => TestOutput.Name;

    public static DirectoryInfo RepositoryRoot
    {
        get
        {
            for (var dir = TestOutput; dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "OrleansDsm.sln"))) return dir;
            throw new InvalidOperationException($"No OrleansDsm.sln above {TestOutput.FullName}.");
        }
    }

    public static string Output(string projectFolder) =>
        Path.Combine(RepositoryRoot.FullName, projectFolder, "bin", Configuration, Framework);

    public static string SiloDll => Path.Combine(Output("Silo"), "OrleansDsm.Silo.dll");

    public static string CliDll => Path.Combine(Output("Cli"), "dsm.dll");

    public static string WorkerDll => Path.Combine(Output(Path.Combine("tests", "OrleansDsm.TestWorker")), "OrleansDsm.TestWorker.dll");

    public static ProcessStartInfo Dotnet(string dll, IEnumerable<string> arguments, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetDirectoryName(dll)!,
        };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        return start;
    }

    /// <summary>Runs the <c>dsm</c> tool to its end (two minutes at most) and returns what it printed and its exit code.</summary>
    public static Task<ProcessResult> RunDsmAsync(params string[] arguments) =>
        RunAsync(Dotnet(CliDll, arguments), TimeSpan.FromSeconds(120));

    /// <summary>Runs a program to completion (killing it after <paramref name="timeout"/>) and returns its exit code and output.</summary>
    public static async Task<ProcessResult> RunAsync(ProcessStartInfo start, TimeSpan timeout)
    {
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{start.FileName} {string.Join(' ', start.ArgumentList)} did not finish within {timeout}.");
        }
        return new ProcessResult(process.ExitCode, (await stdout).TrimEnd(), (await stderr).TrimEnd());
    }
}

public sealed record ProcessResult(int ExitCode, string Stdout, string Stderr);
