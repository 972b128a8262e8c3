namespace OrleansDsm.Samples;

/// <summary>
/// The frame of every sample: parse the arguments, connect, and either coordinate (start the workers, check their
/// answer against a sequential run, print time, traffic and verdict) or, with <c>--worker</c>, do one worker's part
/// between the start and finish lines and report its traffic.
/// </summary>
public static class SampleRunner
{
    /// <summary>Runs the sample; returns 0 when the answer is right, 1 when it is wrong, 2 on bad arguments or an error.</summary>
    public static async Task<int> RunAsync(
        string sample, string[] args, Func<SampleContext, Task<SampleOutcome>> coordinate, Func<SampleContext, int, Task> work)
    {
        SampleArguments arguments;
        try
        {
            arguments = new SampleArguments(args);
            _ = (arguments.Workers, arguments.Mode, arguments.Worker);
        }
        catch (ArgumentException error)
        {
            Console.Error.WriteLine($"{sample}: {error.Message}");
            return 2;
        }
        try
        {
            await using var client = await DsmClient.ConnectAsync(arguments.Client);
            var context = new SampleContext(sample, arguments, client);
            if (arguments.Worker is { } worker)
            {
                await context.Line("start").SignalAndWaitAsync(TimeSpan.FromMinutes(2));
                using var traffic = new TrafficMeter();
                await work(context, worker);
                await context.Line("finish").SignalAndWaitAsync(TimeSpan.FromMinutes(10));
                Console.WriteLine(traffic.Counted.ToLine());
                return 0;
            }
            var outcome = await coordinate(context);
            Console.WriteLine(outcome.Description);
            Console.WriteLine(FormattableString.Invariant(
                $"time: {outcome.Elapsed.TotalSeconds:0.###} s shared, {outcome.Sequential.TotalSeconds:0.###} s sequential on plain arrays in one process"));
            Console.WriteLine($"traffic: {outcome.Traffic}");
            Console.WriteLine($"verdict: {(outcome.Correct ? "correct" : "WRONG")}: {outcome.Check}");
            return outcome.Correct ? 0 : 1;
        }
        catch (Exception error) when (error is DsmException or InvalidOperationException or ClusterUnreachableException or ArgumentException)
        {
            Console.Error.WriteLine($"{sample}: {error.Message}");
            return 2;
        }
    }
}
