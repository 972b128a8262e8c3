using System.Diagnostics;
using OrleansDsm.Barriers;

namespace OrleansDsm.Samples;

/// <summary>
/// What a sample's coordinator and workers share: the arguments, the connection, and names unique to the run. The
/// coordinator starts the workers as processes of the same program and times them from the start line, which every
/// worker and the coordinator pass together once all are connected, to the finish line, likewise.
/// </summary>
public sealed class SampleContext(string sample, SampleArguments arguments, DsmClient client)
{
    private static readonly TimeSpan LineTimeout = TimeSpan.FromMinutes(2);

    /// <summary>The command line.</summary>
    public SampleArguments Arguments { get; } = arguments;

    /// <summary>This process's connection to the cluster.</summary>
    public DsmClient Client { get; } = client;

    /// <summary>What every name of this run starts with: the sample's name and the run's id.</summary>
    public string Prefix => $"{sample}-{Arguments.Run}";

    /// <summary>A name unique to this run, for a region, lock or barrier called <paramref name="what"/>.</summary>
    public string Name(string what) => $"{Prefix}-{what}";

    /// <summary>Where the workers wait for each other (and the coordinator) before starting and after finishing.</summary>
    internal SharedBarrier Line(string which) => Client.Barrier(Name(which), Arguments.Workers + 1);

    /// <summary>
    /// Starts the workers, passes the start line with them, and waits for all of them to pass the finish line and
    /// exit. Returns the time between the lines and the workers' traffic in it.
    /// </summary>
    /// <exception cref="InvalidOperationException">A worker failed; the message holds what it printed.</exception>
    public async Task<(TimeSpan Elapsed, Traffic Traffic)> RunWorkersAsync()
    {
        var run = Arguments.Run;
        var workers = Enumerable.Range(0, Arguments.Workers)
            .Select(worker => WorkerProcess.RunAsync([.. Arguments.Raw, "--worker", $"{worker}", "--run", run]))
            .ToArray();
        var start = Line("start");
        var finish = Line("finish");
        await WhenLine(start.SignalAndWaitAsync(LineTimeout), workers);
        var elapsed = Stopwatch.StartNew();
        await WhenLine(finish.SignalAndWaitAsync(LineTimeout), workers);
        elapsed.Stop();
        var outputs = await Task.WhenAll(workers);
        return (elapsed.Elapsed, outputs.Aggregate(new Traffic(0, 0, 0), (sum, output) => sum + output));
    }

    /// <summary>Waits for a line, but fails at once if a worker fails before reaching it.</summary>
    private static async Task WhenLine(Task line, Task<Traffic>[] workers)
    {
        while (!line.IsCompleted)
        {
            var done = await Task.WhenAny([line, .. workers]);
            if (done != line && !done.IsCompletedSuccessfully) await done;
            if (done != line) workers = [.. workers.Where(worker => worker != done)];
        }
        await line;
    }
}
