using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using OrleansDsm.Bench.Harness;

namespace OrleansDsm.Bench.Workloads;

/// <summary>
/// The Jacobi sample (samples/Jacobi) run for real against the bench silo, two external worker processes, in Strict
/// and in Release mode, beside the same stencil on plain arrays in one process (the sample times that too). Reads the
/// sample's own report: the time between the workers' start and finish lines, and their traffic from Orleans' metrics.
/// </summary>
public static partial class JacobiSample
{
    public static async Task RunAsync(BenchContext context)
    {
        var (size, iterations) = context.Quick ? (256, 30) : (512, 100);
        var name = $"jacobi_{size}";
        var conditions = $"{BenchContext.Setup}; {size}x{size} doubles, {iterations} iterations, 2 worker processes (clients), a barrier per iteration; sample's own timing from start line to finish line, median of {context.Runs}";
        var sequential = new List<double>();
        foreach (var mode in new[] { "strict", "release" })
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
            context.Report.Add($"dsm.{name}.external.{mode}.kib_per_iteration", Stats.Median(kib), "KiB", conditions + "; bytes sent plus received by both workers");
        }
        context.Report.Add($"local.{name}.seconds", Stats.Median(sequential), "s", conditions + "; the same stencil on plain arrays, one thread");
        foreach (var mode in new[] { "strict", "release" })
            context.Report.Ratio($"dsm.{name}.external.{mode}_vs_local", context.Report.Value($"dsm.{name}.external.{mode}.seconds"), Stats.Median(sequential), conditions);
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
