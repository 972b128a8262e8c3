using System.Diagnostics;
using System.Text.Json;

namespace OrleansDsm.Mapping;

/// <summary>
/// The pager: a process of its own that serves the page faults of every mapping of one client. It must be another
/// process: a thread stopped in a page fault cannot reach a GC safe point, so a collection started meanwhile in this
/// process waits for the fault, and whatever serves it must not need this process's GC (or any of its managed threads)
/// to finish. The pager has its own runtime and its own connection to the cluster, and stays warm across mappings. It
/// takes each mapping's <c>userfaultfd</c> and memory file from this process (<c>pidfd_getfd</c>, which Yama allows
/// once this process names it with <c>PR_SET_PTRACER</c>), and takes commands (map, release, acquire, stats, unmap)
/// as lines on its standard input, one at a time. The end of its input stops it.
/// </summary>
internal sealed class PagerProcess : IAsyncDisposable
{
    /// <summary>The pager's assembly, which must sit beside the application's.</summary>
    public const string AssemblyName = "OrleansDsm.Pager.dll";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly SemaphoreSlim _turn = new(1, 1);

    private PagerProcess(Process process) => _process = process;

    /// <summary>Starts the pager with <paramref name="settings"/> and returns once it serves faults.</summary>
    /// <exception cref="NotSupportedException">The pager's assembly is not beside the application.</exception>
    /// <exception cref="IOException">The pager did not start; the message says why.</exception>
    public static async Task<PagerProcess> StartAsync(PagerConnection settings, CancellationToken cancellation)
    {
        var assembly = Path.Combine(AppContext.BaseDirectory, AssemblyName);
        if (!File.Exists(assembly))
            throw new NotSupportedException($"Mapping a region needs the pager, {AssemblyName}, beside the application in {AppContext.BaseDirectory}: reference the OrleansDsm.Pager project.");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(assembly);
        var process = Process.Start(start) ?? throw new IOException("The pager process did not start.");
        // Where Yama restricts ptrace to descendants, the pager (a child) may take this process's descriptors only
        // if named; elsewhere the call fails and nothing needs it.
        LinuxMemory.prctl(LinuxMemory.PrSetPtracer, (nuint)process.Id, 0, 0, 0);
        var pager = new PagerProcess(process);
        try
        {
            await process.StandardInput.WriteLineAsync(JsonSerializer.Serialize(settings));
            await process.StandardInput.FlushAsync(cancellation);
            var first = await process.StandardOutput.ReadLineAsync(cancellation).AsTask().WaitAsync(StartTimeout, cancellation);
            if (first != "ready")
                throw new IOException($"The pager did not start: {(first is null ? "it exited (its error is on standard error)" : Parse(first).Message.TrimEnd('.'))}.");
            return pager;
        }
        catch
        {
            await pager.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sends <paramref name="command"/> and returns the pager's answer, without its first word.</summary>
    /// <exception cref="DsmException">The pager reported a DSM error (a freed region, a silo under memory pressure).</exception>
    /// <exception cref="IOException">The pager failed otherwise, or has exited.</exception>
    public async Task<string> AskAsync(string command, CancellationToken cancellation)
    {
        await _turn.WaitAsync(cancellation);
        try
        {
            // Not cancellable once sent: an answer left unread would be taken as the next command's.
            await _process.StandardInput.WriteLineAsync(command);
            await _process.StandardInput.FlushAsync(CancellationToken.None);
            var answer = await _process.StandardOutput.ReadLineAsync(CancellationToken.None)
                         ?? throw new IOException("The pager has exited; its error is on standard error.");
            var (word, kind, message) = Parse(answer);
            if (word == "ok") return message;
            throw kind switch
            {
                nameof(RegionFreedException) => new RegionFreedException(message),
                nameof(MemoryPressureException) => new MemoryPressureException(message),
                _ => new IOException($"The pager could not {command}: {message}"),
            };
        }
        finally
        {
            _turn.Release();
        }
    }

    /// <summary>
    /// One line of the pager's: its first word (<c>ok</c> or <c>error</c>) and the rest, which for an error is the
    /// exception's type name, a tab and its message. A line that is neither (something else wrote to the pager's
    /// output) is its own message, whole.
    /// </summary>
    internal static (string Word, string Kind, string Message) Parse(string answer)
    {
        var space = answer.IndexOf(' ');
        var (word, rest) = space < 0 ? (answer, "") : (answer[..space], answer[(space + 1)..]);
        if (word == "ok") return (word, "", rest);
        if (word != "error") return ("", "", answer);
        var tab = rest.IndexOf('\t');
        return tab < 0 ? (word, "", rest) : (word, rest[..tab], rest[(tab + 1)..]);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.Close(); // the pager stops at the end of its input
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (Exception error) when (error is TimeoutException or IOException or InvalidOperationException)
        {
            _process.Kill(entireProcessTree: true);
        }
        _process.Dispose();
        _turn.Dispose();
    }
}
