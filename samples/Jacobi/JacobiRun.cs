namespace OrleansDsm.Samples.Jacobi;

/// <summary>The coordinator's and the workers' parts of a Jacobi run.</summary>
internal static class JacobiRun
{
    private static int Size(SampleContext context) => context.Arguments.Int("size", 64, 3, 4096);

    private static int Iterations(SampleContext context) => context.Arguments.Int("iterations", 20, 1, 100_000);

    public static async Task<SampleOutcome> CoordinateAsync(SampleContext context)
    {
        var (size, iterations, workers) = (Size(context), Iterations(context), context.Arguments.Workers);
        if (workers > size - 2) throw new ArgumentException($"--workers is at most {size - 2}, one interior row each, for a grid of {size}");
        var grids = new[] { context.Name("even"), context.Name("odd") };
        foreach (var name in grids)
        {
            var grid = await context.Client.AllocateAsync<double>(name, (long)size * size, context.Arguments.Mode);
            await grid.WriteAsync(0, HeatGrid.Initial(size));
        }
        await context.Client.ReleaseAsync();

        var (elapsed, traffic) = await context.RunWorkersAsync();

        var shared = new double[size * size];
        await (await context.Client.OpenAsync<double>(grids[iterations % 2])).ReadAsync(0, shared);
        var sequential = System.Diagnostics.Stopwatch.StartNew();
        var expected = HeatGrid.Sequential(size, iterations);
        sequential.Stop();
        var largest = shared.Zip(expected, (a, b) => Math.Abs(a - b)).Max();
        var differing = shared.Zip(expected).Count(pair => BitConverter.DoubleToInt64Bits(pair.First) != BitConverter.DoubleToInt64Bits(pair.Second));
        foreach (var name in grids) await context.Client.FreeAsync(name);
        return new SampleOutcome(
            FormattableString.Invariant($"jacobi {size}x{size}, {iterations} iterations, {workers} workers, {(context.Arguments.Mapped ? "mapped" : context.Arguments.Mode)}; {traffic.BytesSent / iterations / 1024.0:0.#} KiB sent per iteration"),
            elapsed, traffic, sequential.Elapsed,
            differing == 0,
            $"{differing} of {shared.Length} points differ from the sequential run (largest difference {largest})");
    }

    public static Task WorkAsync(SampleContext context, int worker) => context.Arguments.Mapped
        ? JacobiBand.RunMappedAsync(context.Client, context.Prefix, Size(context), Iterations(context), worker, context.Arguments.Workers)
        : JacobiBand.RunAsync(context.Client, context.Prefix, Size(context), Iterations(context), worker, context.Arguments.Workers);
}
