namespace OrleansDsm.Samples.Histogram;

/// <summary>The coordinator's and the workers' parts of a histogram run.</summary>
internal static class HistogramRun
{
    private const int Chunk = 8192;

    private static int Size(SampleContext context) => context.Arguments.Int("size", 200_000, 1, 100_000_000);

    private static int Bins(SampleContext context) => context.Arguments.Int("bins", 64, 1, 1_000_000);

    public static async Task<SampleOutcome> CoordinateAsync(SampleContext context)
    {
        context.Arguments.RequireUnmapped();
        var (size, bins) = (Size(context), Bins(context));
        var random = new Random(size ^ bins);
        var values = new int[size];
        for (var i = 0; i < size; i++) values[i] = (int)Math.Min(bins - 1, Math.Abs(random.NextDouble() * random.NextDouble()) * bins);
        var input = await context.Client.AllocateAsync<int>(context.Name("input"), size, context.Arguments.Mode);
        await input.WriteAsync(0, values);
        await context.Client.AllocateAsync<long>(context.Name("bins"), bins, context.Arguments.Mode);
        await context.Client.ReleaseAsync();

        var (elapsed, traffic) = await context.RunWorkersAsync();

        var counted = new long[bins];
        await (await context.Client.OpenAsync<long>(context.Name("bins"))).ReadAsync(0, counted);
        var sequential = System.Diagnostics.Stopwatch.StartNew();
        var expected = new long[bins];
        foreach (var value in values) expected[value]++;
        sequential.Stop();
        var wrong = Enumerable.Range(0, bins).Count(bin => counted[bin] != expected[bin]);
        await context.Client.FreeAsync(context.Name("input"));
        await context.Client.FreeAsync(context.Name("bins"));
        return new SampleOutcome(
            $"histogram of {size} values in {bins} bins, {context.Arguments.Workers} workers, {context.Arguments.Mode}",
            elapsed, traffic, sequential.Elapsed,
            wrong == 0,
            $"{wrong} of {bins} bins differ from the sequential count; {counted.Sum()} values counted of {size}");
    }

    public static async Task WorkAsync(SampleContext context, int worker)
    {
        var (size, workers) = (Size(context), context.Arguments.Workers);
        var input = await context.Client.OpenAsync<int>(context.Name("input"));
        var bins = await context.Client.OpenAsync<long>(context.Name("bins"));
        var (start, end) = ((long)size * worker / workers, (long)size * (worker + 1) / workers);
        var chunk = new int[Chunk];
        var counts = new long[bins.Length];
        for (var at = start; at < end; at += Chunk)
        {
            var values = chunk.AsMemory(0, (int)Math.Min(Chunk, end - at));
            await input.ReadAsync(at, values);
            Array.Clear(counts);
            foreach (var value in values.Span) counts[value]++;
            await Task.WhenAll(Enumerable.Range(0, counts.Length).Where(bin => counts[bin] != 0).Select(bin => bins.AddAsync(bin, counts[bin])));
        }
    }
}
