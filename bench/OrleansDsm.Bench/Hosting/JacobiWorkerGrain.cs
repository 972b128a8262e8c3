using OrleansDsm.Samples.Jacobi;

namespace OrleansDsm.Bench.Hosting;

/// <summary>
/// Runs the Jacobi sample's worker loop inside the silo process, through a DSM client of the silo's own cluster
/// client, so page calls and barrier arrivals never leave the process. The loop runs off the grain's scheduler: the
/// page cache registers an observer, which Orleans refuses to create from a grain ("cannot create a local object
/// reference from a grain"), and a barrier wait would otherwise hold the grain's turn. Placed on the silo whose
/// gateway the call that activates it comes through, so a placement workload can put each worker on a silo of its choice.
/// </summary>
[Orleans.Placement.PreferLocalPlacement]
internal sealed class JacobiWorkerGrain(IClusterClient cluster) : Grain, IJacobiWorkerGrain
{
    public Task Run(string prefix, int size, int iterations, int workers)
    {
        var worker = (int)this.GetPrimaryKeyLong();
        return Task.Run(async () =>
        {
            await using var dsm = new DsmClient(cluster);
            await JacobiBand.RunAsync(dsm, prefix, size, iterations, worker, workers);
        });
    }

    public Task TouchBand(string prefix, int size, int workers)
    {
        var (first, count) = HeatGrid.Band(size, (int)this.GetPrimaryKeyLong(), workers);
        return Task.Run(async () =>
        {
            await using var dsm = new DsmClient(cluster);
            var band = new double[count * size];
            foreach (var name in new[] { $"{prefix}-even", $"{prefix}-odd" })
                await (await dsm.OpenAsync<double>(name)).ReadAsync((long)first * size, band);
        });
    }
}
