namespace OrleansDsm.Samples.Tsp;

/// <summary>
/// The coordinator's and the workers' parts of a TSP run. Shared state: <c>queue</c> (element 0: the next subproblem)
/// and <c>best</c> (element 0: the best length, then the tour's cities), both changed only under the run's lock.
/// </summary>
internal static class TspRun
{
    private static int Cities(SampleContext context) => context.Arguments.Int("cities", 10, 4, 13);

    public static async Task<SampleOutcome> CoordinateAsync(SampleContext context)
    {
        context.Arguments.RequireUnmapped();
        var tour = new Tour(Cities(context));
        await context.Client.AllocateAsync<long>(context.Name("queue"), 1, context.Arguments.Mode);
        var best = await context.Client.AllocateAsync<long>(context.Name("best"), 1 + tour.Cities, context.Arguments.Mode);
        await best.SetAsync(0, long.MaxValue);
        await context.Client.ReleaseAsync();

        var (elapsed, traffic) = await context.RunWorkersAsync();

        var shared = new long[1 + tour.Cities];
        await best.ReadAsync(0, shared);
        var cities = shared[1..].Select(city => (int)city).ToArray();
        var sequential = System.Diagnostics.Stopwatch.StartNew();
        var optimal = tour.Search([0], long.MaxValue)!.Value.Length;
        sequential.Stop();
        var isTour = cities.Order().SequenceEqual(Enumerable.Range(0, tour.Cities)) && cities[0] == 0;
        var correct = isTour && shared[0] == optimal && tour.Length(cities) == optimal;
        await context.Client.FreeAsync(context.Name("queue"));
        await context.Client.FreeAsync(context.Name("best"));
        return new SampleOutcome(
            $"tsp of {tour.Cities} cities ({tour.Subproblems} subproblems), {context.Arguments.Workers} workers, {context.Arguments.Mode}",
            elapsed, traffic, sequential.Elapsed,
            correct,
            $"shared best {shared[0]} over [{string.Join(' ', cities)}] (a tour: {isTour}, its length {(isTour ? tour.Length(cities) : -1)}); exhaustive search finds {optimal}");
    }

    public static async Task WorkAsync(SampleContext context, int worker)
    {
        var tour = new Tour(Cities(context));
        var queue = await context.Client.OpenAsync<long>(context.Name("queue"));
        var best = await context.Client.OpenAsync<long>(context.Name("best"));
        var guard = context.Client.Lock(context.Name("lock"));
        while (true)
        {
            long next, bound;
            await using (var hold = await guard.AcquireAsync())
            {
                next = await queue.GetAsync(0);
                bound = await best.GetAsync(0);
                if (next >= tour.Subproblems) return;
                await queue.Fenced(hold).SetAsync(0, next + 1);
            }
            if (tour.Search(tour.Prefix((int)next), bound) is not { } found) continue;
            await using (var hold = await guard.AcquireAsync())
            {
                if (found.Length >= await best.GetAsync(0)) continue;
                await best.Fenced(hold).WriteAsync(0, (long[])[found.Length, .. found.Tour.Select(city => (long)city)]);
            }
        }
    }
}
