using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using OrleansDsm.Bench.Harness;
using OrleansDsm.Bench.Hosting;
using OrleansDsm.Regions;
using OrleansDsm.Samples.Jacobi;

namespace OrleansDsm.Bench.Workloads;

/// <summary>
/// The Jacobi sample (samples/Jacobi) against the bench silo, in Strict, Release and mapped mode: run for real with two
/// external worker processes (read from the sample's own report: the time between the workers' start and finish
/// lines, and their traffic from Orleans' metrics), and with its worker loop in two grains hosted in the silo; beside
/// the same stencil on plain arrays in one process.
/// </summary>
public static partial class JacobiSample
{
    public static async Task RunAsync(BenchContext context)
    {
        var (size, iterations) = context.Quick ? (256, 30) : (512, 100);
        var name = $"jacobi_{size}";
        var conditions = $"{BenchContext.Setup}; activations=warm (the grids are written, every page active, before the start line); {size}x{size} doubles, {iterations} iterations, 2 worker processes (clients), a barrier per iteration; sample's own timing from start line to finish line, median of {context.Runs}";
        var sequential = new List<double>();
        foreach (var mode in new[] { "strict", "release", "mapped" })
        {
            var seconds = new List<double>();
            var kib = new List<double>();
            for (var run = 0; run < context.Runs; run++)
            {
                var report = await RunSampleAsync(context.Gateway, size, iterations, mode);
                seconds.Add(report.Shared);
                sequential.Add(report.Sequential);
                kib.Add((report.KibSent + report.KibReceived) / iterations);
            }
            context.Report.Add($"dsm.{name}.external.{mode}.seconds", Stats.Median(seconds), "s", conditions);
            context.Report.Add($"dsm.{name}.external.{mode}.kib_per_iteration", Stats.Median(kib), "KiB",
                conditions + "; bytes sent plus received by both workers" + (mode == "mapped" ? " (not their pagers, which do the page traffic)" : ""));
        }
        // Runs first, not counted: the workers' code in the silo is compiled and tiered up, as in a long-lived service.
        var warmUps = context.Quick ? 1 : 2;
        var hostedConditions = $"{BenchContext.Setup}; activations=warm (the grids are written, every page active, before the clock starts); {size}x{size} doubles, {iterations} iterations, 2 workers as grains in the silo (the sample's band loop), a barrier per iteration; from the calls that start them to their end, median of {context.Runs} after {warmUps} warm-up runs";
        foreach (var (mode, consistency) in new[] { ("strict", Consistency.Strict), ("release", Consistency.Release) })
        {
            var seconds = new List<double>();
            for (var run = -warmUps; run < context.Runs; run++)
            {
                var elapsed = await RunInSiloAsync(context, size, iterations, consistency);
                if (run >= 0) seconds.Add(elapsed);
            }
            context.Report.Add($"dsm.{name}.silo_hosted.{mode}.seconds", Stats.Median(seconds), "s", hostedConditions);
        }
        context.Report.Add($"local.{name}.seconds", Stats.Median(sequential), "s", conditions + "; the same stencil on plain arrays, one thread");
        foreach (var hosting in new[] { "external", "silo_hosted" })
        foreach (var mode in new[] { "strict", "release" })
            context.Report.Ratio($"dsm.{name}.{hosting}.{mode}_vs_local", context.Report.Value($"dsm.{name}.{hosting}.{mode}.seconds"), Stats.Median(sequential), conditions);
        context.Report.Ratio($"dsm.{name}.external.mapped_vs_local", context.Report.Value($"dsm.{name}.external.mapped.seconds"), Stats.Median(sequential), conditions);
        context.Report.Ratio($"dsm.{name}.external.mapped_vs_release", context.Report.Value($"dsm.{name}.external.mapped.seconds"),
            context.Report.Value($"dsm.{name}.external.release.seconds"), conditions);
    }

    /// <summary>Runs two worker grains in the bench silo on fresh grids and checks their answer against the sequential one.</summary>
    private static async Task<double> RunInSiloAsync(BenchContext context, int size, int iterations, Consistency consistency)
    {
        var prefix = $"bench-jacobi-{Guid.NewGuid():N}";
        foreach (var grid in new[] { "even", "odd" })
            await (await context.Dsm.AllocateAsync<double>($"{prefix}-{grid}", (long)size * size, consistency)).WriteAsync(0, HeatGrid.Initial(size));
        await context.Dsm.ReleaseAsync();
        var elapsed = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 2).Select(worker => context.Orleans.GetGrain<IJacobiWorkerGrain>(worker).Run(prefix, size, iterations, 2)));
        elapsed.Stop();
        var result = new double[size * size];
        await (await context.Dsm.OpenAsync<double>($"{prefix}-{(iterations % 2 == 0 ? "even" : "odd")}")).ReadAsync(0, result);
        if (!result.SequenceEqual(HeatGrid.Sequential(size, iterations)))
            throw new InvalidOperationException($"Silo-hosted Jacobi ({consistency}) differs from the sequential run.");
        await Task.WhenAll(new[] { "even", "odd" }.Select(grid => context.Dsm.FreeAsync($"{prefix}-{grid}")));
        return elapsed.Elapsed.TotalSeconds;
    }

    private static async Task<(double Shared, double Sequential, double KibSent, double KibReceived)> RunSampleAsync(string gateway, int size, int iterations, string mode)
    {
        var dll = Path.GetFullPath(Path.Combine("samples", "Jacobi", "bin", "Release", "net10.0", "OrleansDsm.Samples.Jacobi.dll"));
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { dll, "--gateway", gateway, "--cluster", "default", "--service", "default", "--workers", "2", "--size", $"{size}", "--iterations", $"{iterations}", "--mode", mode })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0 || !output.Contains("verdict: correct"))
            throw new InvalidOperationException($"The Jacobi sample failed ({process.ExitCode}): {output} {errors}");
        var time = Time().Match(output);
        var traffic = TrafficLine().Match(output);
        double Number(Match match, int group) => double.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture);
        return (Number(time, 1), Number(time, 2), Number(traffic, 1), Number(traffic, 2));
    }

    [GeneratedRegex(@"time: ([\d.]+) s shared, ([\d.]+) s sequential")]
    private static partial Regex Time();

    [GeneratedRegex(@"traffic: \d+ messages sent, ([\d.]+) KiB sent, ([\d.]+) KiB received")]
    private static partial Regex TrafficLine();
}
