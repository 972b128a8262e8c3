using System.Diagnostics;
using System.Globalization;
using OrleansDsm.Bench.Harness;
using OrleansDsm.Bench.Hosting;
using OrleansDsm.Regions;

namespace OrleansDsm.Bench.Workloads;

/// <summary>
/// The Zipf mix one operation at a time, as <see cref="ReadMostlyMix"/>'s second series, but from 4 client processes
/// (see <see cref="ZipfClientProcess"/>) instead of 4 sessions of one: each has its own Orleans client and direct
/// connection, so a write's revocations travel to three processes in three frames, each answered by a thread of its own
/// process, where the sessions of one process share a connection and get them in one. Strict and Uncached take turns,
/// run by run, all four processes starting each run together; a run's rate is its operations over the time from the
/// start to the last process's end.
/// </summary>
public static class ReadMostlyMixProcesses
{
    private const int Processes = 4;

    // A process that has not read both regions within this time, or not finished a run, is taken as hung.
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    public static async Task RunAsync(BenchContext context)
    {
        var perProcess = (context.Quick ? 100_000 : 300_000) / 3 / Processes;
        var names = new[] { "strict", "uncached" }.ToDictionary(mode => mode, mode => $"bench-zipf-processes-{mode}-{Guid.NewGuid():N}");
        await context.Dsm.AllocateAsync<long>(names["strict"], ZipfMix.Elements, Consistency.Strict);
        await context.Dsm.AllocateAsync<long>(names["uncached"], ZipfMix.Elements, Consistency.Uncached);
        var clients = new List<ClientProcess>();
        try
        {
            for (var i = 0; i < Processes; i++) clients.Add(ClientProcess.Start(context.Gateway, names["strict"], names["uncached"]));
            foreach (var client in clients) await client.ExpectAsync(ZipfClientProcess.ReadyLine);
            // One untimed run of each first, as the mix in one process had before its series.
            foreach (var mode in names.Keys) await RunOnceAsync(clients, mode, perProcess, writes: null, context.SiloProcessId);
            var runs = names.Keys.ToDictionary(mode => mode, _ => new List<Run>());
            var writes = new SetTally();
            for (var run = 0; run < context.Runs; run++)
            {
                runs["strict"].Add(await RunOnceAsync(clients, "strict", perProcess, writes, context.SiloProcessId));
                runs["uncached"].Add(await RunOnceAsync(clients, "uncached", perProcess, writes: null, context.SiloProcessId));
            }
            double Median(string mode, Func<Run, double> figure) => Stats.Median(runs[mode].Select(figure).ToList());
            foreach (var client in clients) await client.QuitAsync();

            var conditions = $"{BenchContext.Setup.Replace("client process", $"{Processes} client processes", StringComparison.Ordinal)}; activations=warm (every process has read every page, and one untimed run went first); Strict and Uncached runs taking turns; {Processes} processes x 1 session x 1 outstanding, each with its own Orleans client and direct connection; 95% get / 5% set; Zipf s=0.99 over {ZipfMix.Pages} pages; {perProcess * Processes} ops x {context.Runs} runs, median";
            context.Report.Add("dsm.zipf95.processes.strict.ops", Median("strict", run => run.Rate), "ops/s", conditions);
            context.Report.Add("dsm.zipf95.processes.uncached.ops", Median("uncached", run => run.Rate), "ops/s", conditions);
            context.Report.Add("dsm.zipf95.processes.strict.set_latency_mean", writes.Seconds / Math.Max(1, writes.Count) * 1e3, "ms",
                conditions + "; a write's time from its call to its return, mean over the Strict runs' writes");
            context.Report.Ratio("dsm.zipf95.processes.strict_vs_uncached", Median("strict", run => run.Rate), Median("uncached", run => run.Rate), conditions);
            // One operation at a time, each process's threads sleep between its operations: what waking them costs
            // shows here, where the mix in one process shares those wake-ups among its sessions.
            var processorConditions = conditions + "; processor time (user and system) per operation over each timed run, median";
            foreach (var mode in names.Keys)
            {
                context.Report.Add($"dsm.zipf95.processes.{mode}.client_processor_per_op", Median(mode, run => run.ClientsMicroseconds), "us",
                    processorConditions + $"; the {Processes} client processes together");
                if (context.SiloProcessId is not null)
                    context.Report.Add($"dsm.zipf95.processes.{mode}.silo_processor_per_op", Median(mode, run => run.SiloMicroseconds), "us", processorConditions + "; the silo's process");
            }
            if (context.SiloProcessId is not null)
            {
                // The goal in one figure: with the processes saturated, Strict's rate is Uncached's times what an Uncached
                // operation costs over what a Strict one does. Charging all of Strict's processor time to its writes (its
                // cached reads cost a fraction of a microsecond), 5x needs a write to cost under 1 / (5 x its share of
                // the operations) Uncached operations: under 4 at 5% writes, each write being four trips (see
                // docs/performance.md, "Why 5x from four processes is a ceiling").
                var perSet = Median("strict", run => (run.ClientsMicroseconds + run.SiloMicroseconds) * perProcess * Processes / Math.Max(1, run.Sets));
                var uncached = Median("uncached", run => run.ClientsMicroseconds + run.SiloMicroseconds);
                var setConditions = processorConditions + "; the client processes and the silo together; all of the Strict runs' processor time over their sets";
                context.Report.Add("dsm.zipf95.processes.strict.processor_per_set", perSet, "us", setConditions);
                context.Report.Ratio("dsm.zipf95.processes.strict_set_vs_uncached_op_processor", perSet, uncached,
                    setConditions + "; against an Uncached operation's; 5x Uncached needs under 1 / (5 x the share of sets)");
            }
        }
        finally
        {
            foreach (var client in clients) await client.DisposeAsync();
            foreach (var name in names.Values) await context.Dsm.FreeAsync(name);
        }
    }

    /// <summary>A timed run: the operations a second of all processes together, the processor time an operation cost, and the sets made.</summary>
    private readonly record struct Run(double Rate, double ClientsMicroseconds, double SiloMicroseconds, long Sets);

    /// <summary>Has every process make <paramref name="perProcess"/> operations on the mode's region at once.</summary>
    private static async Task<Run> RunOnceAsync(List<ClientProcess> clients, string mode, int perProcess, SetTally? writes, int? siloProcessId)
    {
        var silo = ProcessorTime.Seconds(siloProcessId);
        var started = Stopwatch.GetTimestamp();
        foreach (var client in clients) client.Send($"run {mode} {perProcess}");
        double clientsProcessor = 0;
        long sets = 0;
        foreach (var client in clients)
        {
            var done = (await client.ExpectAsync("done ")).Split(' ');
            var (count, setSeconds) = (long.Parse(done[1], CultureInfo.InvariantCulture), double.Parse(done[2], CultureInfo.InvariantCulture));
            writes?.Add(count, setSeconds);
            sets += count;
            clientsProcessor += double.Parse(done[3], CultureInfo.InvariantCulture);
        }
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var operations = (double)clients.Count * perProcess;
        return new Run(operations / seconds, clientsProcessor * 1e6 / operations, (ProcessorTime.Seconds(siloProcessId) - silo) * 1e6 / operations, sets);
    }

    /// <summary>One <see cref="ZipfClientProcess"/>, spoken to line by line.</summary>
    private sealed class ClientProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly System.Threading.Channels.Channel<string> _lines = System.Threading.Channels.Channel.CreateUnbounded<string>();
        private readonly System.Text.StringBuilder _errors = new();

        private ClientProcess(Process process)
        {
            _process = process;
            _process.OutputDataReceived += (_, line) =>
            {
                if (line.Data is { } text) _lines.Writer.TryWrite(text);
                else _lines.Writer.TryComplete();
            };
            _process.ErrorDataReceived += (_, line) => { lock (_errors) _errors.AppendLine(line.Data); };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public static ClientProcess Start(string gateway, string strict, string uncached)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { typeof(ZipfClientProcess).Assembly.Location, "zipf-client", gateway, strict, uncached })
                start.ArgumentList.Add(argument);
            return new ClientProcess(Process.Start(start)!);
        }

        public void Send(string line)
        {
            _process.StandardInput.WriteLine(line);
            _process.StandardInput.Flush();
        }

        /// <summary>The next line the process prints, which must start with <paramref name="prefix"/>.</summary>
        public async Task<string> ExpectAsync(string prefix)
        {
            using var patience = new CancellationTokenSource(Patience);
            string line;
            try
            {
                line = await _lines.Reader.ReadAsync(patience.Token);
            }
            catch (Exception error) when (error is OperationCanceledException or System.Threading.Channels.ChannelClosedException)
            {
                throw new InvalidOperationException($"bench: a Zipf client process printed no '{prefix.Trim()}' line ({(patience.IsCancellationRequested ? "timed out" : "it ended")}): {Errors()}");
            }
            if (!line.StartsWith(prefix, StringComparison.Ordinal))
                throw new InvalidOperationException($"bench: a Zipf client process printed '{line}' where '{prefix.Trim()}' was expected: {Errors()}");
            return line;
        }

        public async Task QuitAsync()
        {
            Send("quit");
            using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _process.WaitForExitAsync(patience.Token);
            if (_process.ExitCode != 0) throw new InvalidOperationException($"bench: a Zipf client process ended with {_process.ExitCode}: {Errors()}");
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            _process.Dispose();
        }

        private string Errors()
        {
            lock (_errors) return _errors.ToString();
        }
    }
}
