namespace OrleansDsm.Bench.Hosting;

/// <summary>A Jacobi worker hosted in the bench silo (the sample's band loop, run as a grain): key = worker number.</summary>
public interface IJacobiWorkerGrain : IGrainWithIntegerKey
{
    /// <summary>Runs this worker's band of the grids named by <paramref name="prefix"/> to the end.</summary>
    Task Run(string prefix, int size, int iterations, int workers);

    /// <summary>Reads this worker's band of both grids once, so that its pages' first call comes from this silo.</summary>
    Task TouchBand(string prefix, int size, int workers);
}
