using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansDsm.Tests.Processes;
using OrleansDsm.TestWorker;

namespace OrleansDsm.Tests.Linearizability;

/// <summary>What a history run recorded: every worker's operations, exit codes, how many times the cluster was disturbed (by default, every idle activation collected), and what workers printed.</summary>
/// <param name="DirectServed">How many operations the workers that finished had served by their direct channels.</param>
public sealed record HistoryRunResult(List<Operation> History, int[] ExitCodes, int Disturbances, string Output, long DirectServed)
{
    /// <summary>
    /// Null when the history is linearizable; otherwise the operations of every violating cell in call order, since a
    /// violation is read from its cell's history and a failed run may not come again.
    /// </summary>
    public string? Violations()
    {
        var cells = LinearizabilityChecker.ViolatingCells(History);
        if (cells.Count == 0) return null;
        var report = new System.Text.StringBuilder($"cells {string.Join(", ", cells)} are not linearizable:\n");
        foreach (var op in History.Where(op => cells.Contains(op.Cell)).OrderBy(op => op.Called))
            report.AppendLine($"cell {op.Cell}: {op.Id} {op.Kind} argument={op.Argument} comparand={op.Comparand} result={op.Result?.ToString() ?? "unknown"} called={op.Called} returned={(op.Pending ? "never" : op.Returned)}");
        return report.ToString();
    }
}

/// <summary>
/// Three caching worker processes run concurrent reads, writes, adds, exchanges and compare-exchanges on
/// <see cref="Cells"/> shared cells through the given gateways, all starting at once, while the cluster is disturbed
/// again and again (by default, every idle activation collected). A fault can be injected once worker 0 has recorded a
/// given number of lines.
/// </summary>
public static class HistoryRun
{
    public const int Cells = 4;
    public const int TasksPerProcess = 4;

    /// <summary>
    /// Runs the workers to the end, or two minutes, connected to <paramref name="gateways"/> (host:port, comma
    /// separated, or the connection string of the membership table); <paramref name="fault"/> runs once, when worker 0
    /// has written its lines. <paramref name="disturb"/> is what the run does to the cluster about every 20 ms
    /// meanwhile, given the region the workers share; by default it collects every idle activation. With
    /// <paramref name="disturbedEnough"/>, workers go on past <paramref name="operationsPerTask"/> (up to
    /// <see cref="HistoryWorkload.MostOperationsPerMinimum"/> times as many) until it returns true after a disturbance,
    /// so a loaded machine, which fits fewer disturbances into the same operations, still disturbs them as often.
    /// The region is <see cref="Consistency.Strict"/> unless <paramref name="consistency"/> says otherwise.
    /// </summary>
    public static async Task<HistoryRunResult> RunAsync(string gateways, int operationsPerTask, (int Lines, Func<Process[], Task> Inject)? fault = null,
        Func<IClusterClient, RegionDescriptor, Task>? disturb = null, Func<bool>? disturbedEnough = null, Consistency? consistency = null)
    {
        disturb ??= (orleans, _) => orleans.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        var folder = Directory.CreateTempSubdirectory("dsm-history-").FullName;
        try
        {
            var name = UniqueNames.For("linearizable");
            using var management = await ManagementClientAsync(gateways);
            var orleans = management.Services.GetRequiredService<IClusterClient>();
            var region = (await new DsmClient(orleans).AllocateAsync<long>(name, Cells * HistoryWorkload.CellSpacing, consistency)).Region;
            var files = Enumerable.Range(0, 3).Select(p => Path.Combine(folder, $"{p}.jsonl")).ToArray();
            var workers = Enumerable.Range(0, 3).Select(process => Process.Start(BuiltPrograms.Dotnet(BuiltPrograms.WorkerDll,
            [
                "history", gateways, "dsm", "orleans-dsm", name,
                $"{Cells}", $"{TasksPerProcess}", $"{operationsPerTask}", $"{process}", files[process],
            ]))!).ToArray();
            var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var ready = 0;
            long served = 0;
            foreach (var worker in workers)
            {
                worker.OutputDataReceived += (_, line) =>
                {
                    if (line.Data == "ready") Interlocked.Increment(ref ready);
                    else if (line.Data?.StartsWith(HistoryWorkload.DirectServedLine, StringComparison.Ordinal) == true)
                        Interlocked.Add(ref served, long.Parse(line.Data[HistoryWorkload.DirectServedLine.Length..]));
                };
                worker.ErrorDataReceived += (_, line) => { if (line.Data is not null) errors.Enqueue(line.Data); };
                worker.BeginOutputReadLine();
                worker.BeginErrorReadLine();
            }

            for (var wait = 0; Volatile.Read(ref ready) < workers.Length && wait < 6000 && !workers.Any(worker => worker.HasExited); wait++)
                await Task.Delay(10);
            Assert.True(Volatile.Read(ref ready) == workers.Length, "every worker should connect and get ready: " + string.Join('\n', errors));
            var stop = HistoryWorkload.StopSignal(files[0]);
            if (disturbedEnough is null) File.Create(stop).Dispose();
            File.Create(HistoryWorkload.StartSignal(files[0])).Dispose();

            // The fault is watched for on its own, closely, so a fast worker cannot finish first.
            var injecting = Task.Run(async () =>
            {
                if (fault is not { } planned) return true;
                while (!workers[0].HasExited)
                {
                    if (File.Exists(files[0]) && LineCount(files[0]) >= planned.Lines)
                    {
                        await planned.Inject(workers);
                        return true;
                    }
                    await Task.Delay(2);
                }
                return false;
            });

            var disturbances = 0;
            using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            while (!workers.All(worker => worker.HasExited) && !deadline.IsCancellationRequested)
            {
                try
                {
                    await disturb(orleans, region);
                    disturbances++;
                    if (disturbedEnough?.Invoke() == true && !File.Exists(stop)) File.Create(stop).Dispose();
                }
                catch (Exception) when (fault is not null)
                {
                    // A silo the fault took down does not answer the management call; the run goes on.
                }
                await Task.Delay(20);
            }
            var injected = await injecting;
            foreach (var worker in workers.Where(worker => !worker.HasExited)) worker.Kill(entireProcessTree: true);
            foreach (var worker in workers) await worker.WaitForExitAsync();
            Assert.True(injected, "worker 0 finished before the fault could be injected");
            return new HistoryRunResult(HistoryFiles.Read(files.Where(File.Exists)), workers.Select(worker => worker.ExitCode).ToArray(),
                disturbances, string.Join('\n', errors.Take(20)), Interlocked.Read(ref served));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<IHost> ManagementClientAsync(string gateways)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client =>
        {
            if (gateways.StartsWith("Host=", StringComparison.Ordinal))
                client.UseAdoNetClustering(clustering => (clustering.Invariant, clustering.ConnectionString) = ("Npgsql", gateways))
                    .Configure<Orleans.Configuration.GatewayOptions>(gateway => gateway.GatewayListRefreshPeriod = TimeSpan.FromSeconds(5));
            else client.UseStaticClustering(gateways.Split(',').Select(System.Net.IPEndPoint.Parse).ToArray());
            client.Configure<Orleans.Configuration.ClusterOptions>(cluster => (cluster.ClusterId, cluster.ServiceId) = ("dsm", "orleans-dsm"));
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static int LineCount(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var count = 0;
        while (reader.ReadLine() is not null) count++;
        return count;
    }
}
