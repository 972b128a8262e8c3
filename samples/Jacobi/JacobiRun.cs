namespace OrleansDsm.Samples.Jacobi;

/// <summary>The coordinator's and the workers' parts of a Jacobi run.</summary>
internal static class JacobiRun
{
    private static readonly TimeSpan IterationTimeout = TimeSpan.FromMinutes(1);

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
            FormattableString.Invariant($"jacobi {size}x{size}, {iterations} iterations, {workers} workers, {context.Arguments.Mode}; {traffic.BytesSent / iterations / 1024.0:0.#} KiB sent per iteration"),
            elapsed, traffic, sequential.Elapsed,
            differing == 0,
            $"{differing} of {shared.Length} points differ from the sequential run (largest difference {largest})");
    }

    public static async Task WorkAsync(SampleContext context, int worker)
    {
        var (size, iterations, workers) = (Size(context), Iterations(context), context.Arguments.Workers);
        var (first, count) = HeatGrid.Band(size, worker, workers);
        var grids = new[]
        {
            await context.Client.OpenAsync<double>(context.Name("even")),
            await context.Client.OpenAsync<double>(context.Name("odd")),
        };
        var barrier = context.Client.Barrier(context.Name("iteration"), workers);
        var rows = new double[(count + 2) * size];
        var next = new double[count * size];
        for (var i = 0; i < iterations; i++)
        {
            var (current, target) = (grids[i % 2], grids[(i + 1) % 2]);
            await current.ReadAsync((long)(first - 1) * size, rows);
            HeatGrid.Step(size, rows, count, next);
            await target.WriteAsync((long)first * size, next);
            // A release point: in Release mode this is where the band's changed bytes go out, one call per page.
            await barrier.SignalAndWaitAsync(IterationTimeout);
        }
    }
}
