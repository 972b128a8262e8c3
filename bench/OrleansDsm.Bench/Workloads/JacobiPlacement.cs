using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansDsm.Arrays;
using OrleansDsm.Bench.Harness;
using OrleansDsm.Bench.Hosting;
using OrleansDsm.Pages;
using OrleansDsm.Regions;
using OrleansDsm.Samples.Jacobi;

namespace OrleansDsm.Bench.Workloads;

/// <summary>
/// Jacobi (Release) with its two workers hosted in the two silos of a cluster, one worker per silo, over the same
/// grids round after round: where the pages each worker writes live, and what that costs, with Orleans' activation
/// repartitioning off and on (rounds every 2 to 4 s), and with each worker touching its band first, under the
/// product's default page placement and under <c>Dsm:PagePlacement=FirstTouch</c>. Repartitioning may move a page to
/// the silo that calls it most, which for a band's pages is its worker's; a page that a worker touches first activates
/// where the silos' page placement puts it for a call from that worker's silo.
/// </summary>
public static class JacobiPlacement
{
    public static async Task RunAsync(BenchContext context)
    {
        var (size, iterations) = context.Quick ? (256, 30) : (512, 100);
        var rounds = context.Quick ? 8 : 16;
        var sequential = HeatGrid.Sequential(size, iterations);
        foreach (var (state, repartition, workersTouchFirst, placement) in new[]
        {
            ("repartition_off", false, false, "Balanced"),
            ("repartition_on", true, false, "Balanced"),
            ("workers_touch_first", false, true, "Balanced"),
            ("workers_touch_first.first_touch_placement", false, true, "FirstTouch"),
        })
        {
            var cluster = $"bench-placement-{state.Replace('_', '-').Replace('.', '-')}";
            var moves = repartition ? ActivationMoves.Repartition : ActivationMoves.None;
            await using var first = await BenchSiloProcess.StartBenchAsync(cluster, null, moves, placement);
            await using var second = await BenchSiloProcess.StartBenchAsync(cluster, first.SiloPort, moves, placement);
            // One client per silo, each through that silo's gateway alone: a worker it activates lands there.
            using var hostA = await first.ConnectAsync(cluster);
            using var hostB = await second.ConnectAsync(cluster);
            var (clientA, clientB) = (hostA.Services.GetRequiredService<IClusterClient>(), hostB.Services.GetRequiredService<IClusterClient>());
            await using var dsm = new DsmClient(clientA);
            var prefix = $"bench-placement-{Guid.NewGuid():N}";
            var grids = new[] { await dsm.AllocateAsync<double>($"{prefix}-even", (long)size * size, Consistency.Release),
                                await dsm.AllocateAsync<double>($"{prefix}-odd", (long)size * size, Consistency.Release) };
            var siloOf = new string[2];
            // Each worker's first call to its band's pages (a read of them) comes from its own silo, before the client
            // writes the grids through the first silo's gateway: the pages activate where placement puts them for it.
            if (workersTouchFirst)
                await Task.WhenAll(clientA.GetGrain<IJacobiWorkerGrain>(0).TouchBand(prefix, size, 2),
                                   clientB.GetGrain<IJacobiWorkerGrain>(1).TouchBand(prefix, size, 2));

            var seconds = new List<double>();
            var local = new List<double[]>();
            for (var round = 0; round < rounds; round++)
            {
                foreach (var grid in grids) await grid.WriteAsync(0, HeatGrid.Initial(size));
                await dsm.ReleaseAsync();
                var clock = Stopwatch.StartNew();
                await Task.WhenAll(clientA.GetGrain<IJacobiWorkerGrain>(0).Run(prefix, size, iterations, 2),
                                   clientB.GetGrain<IJacobiWorkerGrain>(1).Run(prefix, size, iterations, 2));
                seconds.Add(clock.Elapsed.TotalSeconds);
                var result = new double[size * size];
                await grids[iterations % 2].ReadAsync(0, result);
                if (!result.SequenceEqual(sequential)) throw new InvalidOperationException($"Jacobi with two silos ({state}) differs from the sequential run.");
                siloOf[0] = await SiloOfAsync(clientA, clientA.GetGrain<IJacobiWorkerGrain>(0));
                siloOf[1] = await SiloOfAsync(clientA, clientB.GetGrain<IJacobiWorkerGrain>(1));
                if (siloOf[0] == siloOf[1]) throw new InvalidOperationException("Both Jacobi workers were placed on one silo.");
                local.Add(await LocalFractionAsync(clientA, grids, size, siloOf));
                // Time for a repartitioning round between runs, as a long-running program would give it.
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
            foreach (var grid in grids) await dsm.FreeAsync(grid.Name);

            var early = seconds.Take(3).ToList();
            var late = seconds.TakeLast(3).ToList();
            var conditions = $"storage=memory (Orleans' storage grains, which both silos reach; binary, write-behind 1 s); silos=2 (bench silos, one cluster on loopback); repartitioning {(repartition ? "on" : "off")}; {(workersTouchFirst ? "each worker read its band of both grids before the grids were first written" : "the grids first written by the client, through the first silo")}; Dsm:PagePlacement={placement}; activations=warm (the grids are written, every page active, before each run); {size}x{size} doubles, {iterations} iterations, Release, one worker grain on each silo; {rounds} runs over the same grids, 1 s apart";
            context.Report.Add($"dsm.jacobi_{size}.two_silos.{state}.first_runs.seconds", Stats.Median(early), "s", conditions + "; median of runs 1-3");
            context.Report.Add($"dsm.jacobi_{size}.two_silos.{state}.last_runs.seconds", Stats.Median(late), "s", conditions + $"; median of the last 3 runs");
            for (var worker = 0; worker < 2; worker++)
            {
                var whose = $"of the pages worker {worker} writes (its band, both grids), those on its silo, the {(worker == 0 ? "first, where the grids were allocated and the client writes them" : "second")}";
                context.Report.Add($"dsm.jacobi_{size}.two_silos.{state}.worker_{worker}.pages_local.first", local[0][worker], "fraction", $"{conditions}; {whose}, after run 1");
                context.Report.Add($"dsm.jacobi_{size}.two_silos.{state}.worker_{worker}.pages_local.last", local[^1][worker], "fraction", $"{conditions}; {whose}, after the last run");
            }
        }
    }

    private static async Task<string> SiloOfAsync(IClusterClient client, IAddressable grain) =>
        (await client.GetGrain<IManagementGrain>(0).GetActivationAddress(grain))?.ToString() ?? "none";

    /// <summary>For each worker, of the pages of both grids in its band, the fraction whose activation is on its silo.</summary>
    private static async Task<double[]> LocalFractionAsync(IClusterClient client, SharedArray<double>[] grids, int size, string[] siloOf)
    {
        var fractions = new double[2];
        for (var worker = 0; worker < 2; worker++)
        {
            var (onOwnSilo, all) = (0, 0);
            var (firstRow, count) = HeatGrid.Band(size, worker, 2);
            foreach (var grid in grids)
            {
                var (firstPage, lastPage) = (grid.Region.FirstPage + (long)firstRow * size * sizeof(double) / grid.Region.PageSize,
                                             grid.Region.FirstPage + ((long)(firstRow + count) * size * sizeof(double) - 1) / grid.Region.PageSize);
                for (var page = firstPage; page <= lastPage; page++)
                {
                    all++;
                    if (await SiloOfAsync(client, client.GetGrain<IPageGrain>(page)) == siloOf[worker]) onOwnSilo++;
                }
            }
            fractions[worker] = (double)onOwnSilo / all;
        }
        return fractions;
    }
}
