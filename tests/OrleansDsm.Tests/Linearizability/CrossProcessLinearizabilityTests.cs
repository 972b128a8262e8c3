using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansDsm.Tests.Processes;
using OrleansDsm.TestWorker;

namespace OrleansDsm.Tests.Linearizability;

/// <summary>
/// Three client processes run concurrent reads, writes, adds, exchanges and compare-exchanges on shared cells of the
/// real silo while every idle activation, pages included, is collected again and again. Every worker caches the pages
/// it reads. The recorded histories must be linearizable, including when one client process is killed mid-run; and
/// the same run against a silo whose pages skip invalidation must be caught.
/// </summary>
[Collection(SiloProcessCollection.Name)]
public sealed class CrossProcessLinearizabilityTests(SiloProcessFixture fixture) : IDisposable
{
    private const int Cells = 4;
    private const int TasksPerProcess = 4;
    private readonly string _folder = Directory.CreateTempSubdirectory("dsm-history-").FullName;
    private string _output = "";

    [Fact]
    public async Task Histories_from_three_processes_are_linearizable_while_pages_deactivate()
    {
        var (history, exitCodes, deactivations) = await RunAsync(operationsPerTask: 120, killFirstAfterLines: null);

        Assert.True(exitCodes.All(code => code == 0), _output);
        Assert.Equal(3 * TasksPerProcess * 120, history.Count);
        Assert.True(deactivations > 0, "activations should have been collected during the run");
        Assert.Empty(LinearizabilityChecker.ViolatingCells(history));
    }

    [Fact]
    public async Task Histories_stay_linearizable_when_a_client_process_is_killed_mid_run()
    {
        var (history, exitCodes, _) = await RunAsync(operationsPerTask: 400, killFirstAfterLines: 300);

        Assert.NotEqual(0, exitCodes[0]);
        Assert.True(exitCodes[1] == 0 && exitCodes[2] == 0, _output);
        var killedProcessOperations = history.Count(op => op.Id / 100_000 / 1000 == 0);
        Assert.InRange(killedProcessOperations, 150, TasksPerProcess * 400 - 1);
        Assert.Empty(LinearizabilityChecker.ViolatingCells(history));
    }

    [Fact]
    public async Task The_checker_finds_violations_when_pages_skip_invalidation()
    {
        await using var broken = await SiloProcess.StartAsync("--Dsm:SkipInvalidationForCheckerTests=true");

        var (history, exitCodes, _) = await RunAsync(operationsPerTask: 150, killFirstAfterLines: null, broken.Gateway);

        Assert.True(exitCodes.All(code => code == 0), _output);
        Assert.NotEmpty(LinearizabilityChecker.ViolatingCells(history));
    }

    private Task<(List<Operation> History, int[] ExitCodes, int Deactivations)> RunAsync(int operationsPerTask, int? killFirstAfterLines) =>
        RunAsync(operationsPerTask, killFirstAfterLines, fixture.Silo.Gateway);

    private async Task<(List<Operation> History, int[] ExitCodes, int Deactivations)> RunAsync(int operationsPerTask, int? killFirstAfterLines, string gateway)
    {
        var name = UniqueNames.For("linearizable");
        using var management = await ManagementClientAsync(gateway);
        var orleans = management.Services.GetRequiredService<IClusterClient>();
        await new DsmClient(orleans).AllocateAsync<long>(name, Cells * HistoryWorkload.CellSpacing);
        var folder = Directory.CreateDirectory(Path.Combine(_folder, name)).FullName;
        var files = Enumerable.Range(0, 3).Select(p => Path.Combine(folder, $"{p}.jsonl")).ToArray();
        var workers = Enumerable.Range(0, 3).Select(process => Process.Start(BuiltPrograms.Dotnet(BuiltPrograms.WorkerDll,
        [
            "history", gateway, "dsm", "orleans-dsm", name,
            $"{Cells}", $"{TasksPerProcess}", $"{operationsPerTask}", $"{process}", files[process],
        ]))!).ToArray();
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var ready = 0;
        foreach (var worker in workers)
        {
            worker.OutputDataReceived += (_, line) => { if (line.Data == "ready") Interlocked.Increment(ref ready); };
            worker.ErrorDataReceived += (_, line) => { if (line.Data is not null) errors.Enqueue(line.Data); };
            worker.BeginOutputReadLine();
            worker.BeginErrorReadLine();
        }

        for (var wait = 0; Volatile.Read(ref ready) < workers.Length && wait < 6000 && !workers.Any(worker => worker.HasExited); wait++)
            await Task.Delay(10);
        Assert.True(Volatile.Read(ref ready) == workers.Length, "every worker should connect and get ready: " + string.Join('\n', errors));
        File.Create(HistoryWorkload.StartSignal(files[0])).Dispose();

        // The kill is watched for on its own, closely, so a fast worker cannot finish first.
        var killing = Task.Run(async () =>
        {
            if (killFirstAfterLines is null) return true;
            while (!workers[0].HasExited)
            {
                if (File.Exists(files[0]) && LineCount(files[0]) >= killFirstAfterLines)
                {
                    workers[0].Kill(entireProcessTree: true);
                    return true;
                }
                await Task.Delay(2);
            }
            return false;
        });

        var deactivations = 0;
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (!workers.All(worker => worker.HasExited) && !deadline.IsCancellationRequested)
        {
            await orleans.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
            deactivations++;
            await Task.Delay(20);
        }
        var killed = await killing;
        foreach (var worker in workers.Where(worker => !worker.HasExited)) worker.Kill(entireProcessTree: true);
        foreach (var worker in workers) await worker.WaitForExitAsync();
        Assert.True(killed, "the first worker finished before it could be killed");
        _output = string.Join('\n', errors.Take(20));
        return (HistoryFiles.Read(files.Where(File.Exists)), workers.Select(worker => worker.ExitCode).ToArray(), deactivations);
    }

    private static async Task<IHost> ManagementClientAsync(string gateway)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client => client
            .UseStaticClustering(System.Net.IPEndPoint.Parse(gateway))
            .Configure<Orleans.Configuration.ClusterOptions>(cluster => (cluster.ClusterId, cluster.ServiceId) = ("dsm", "orleans-dsm")));
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

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
