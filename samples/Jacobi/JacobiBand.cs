namespace OrleansDsm.Samples.Jacobi;

/// <summary>
/// One worker's part of a Jacobi run, wherever the worker runs (a client process, or a grain in a silo): its band of
/// rows, iteration after iteration, reading one grid and writing the other, meeting the other workers at a barrier
/// after each. The grids are the regions <c>{prefix}-even</c> and <c>{prefix}-odd</c>; the barrier is <c>{prefix}-iteration</c>.
/// </summary>
public static class JacobiBand
{
    private static readonly TimeSpan IterationTimeout = TimeSpan.FromMinutes(1);

    public static async Task RunAsync(DsmClient client, string prefix, int size, int iterations, int worker, int workers)
    {
        var (first, count) = HeatGrid.Band(size, worker, workers);
        var grids = new[] { await client.OpenAsync<double>($"{prefix}-even"), await client.OpenAsync<double>($"{prefix}-odd") };
        var barrier = client.Barrier($"{prefix}-iteration", workers);
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

    /// <summary>
    /// The same band on the grids mapped into this process: loads and stores straight on the mapped rows. After each
    /// iteration the written grid is released (its changed bytes go out), the barrier is met, and both grids are
    /// acquired, so the next iteration's loads fetch what the other workers wrote.
    /// </summary>
    public static async Task RunMappedAsync(DsmClient client, string prefix, int size, int iterations, int worker, int workers)
    {
        var (first, count) = HeatGrid.Band(size, worker, workers);
        var grids = new[]
        {
            await (await client.OpenAsync<double>($"{prefix}-even")).MapAsync(),
            await (await client.OpenAsync<double>($"{prefix}-odd")).MapAsync(),
        };
        try
        {
            var barrier = client.Barrier($"{prefix}-iteration", workers);
            for (var i = 0; i < iterations; i++)
            {
                var (current, target) = (grids[i % 2], grids[(i + 1) % 2]);
                HeatGrid.Step(size, current.GetSpan((long)(first - 1) * size, (count + 2) * size), count, target.GetSpan((long)first * size, count * size));
                await target.ReleaseAsync();
                await barrier.SignalAndWaitAsync(IterationTimeout);
                foreach (var grid in grids) await grid.AcquireAsync();
            }
        }
        finally
        {
            foreach (var grid in grids) await grid.DisposeAsync();
        }
    }
}
