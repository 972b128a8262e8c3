namespace OrleansDsm.Bench.Baseline;

/// <summary>Reads the silo process's managed heap, for the memory figures. The bench runs a single silo.</summary>
public interface ISiloProbeGrain : IGrainWithIntegerKey
{
    Task<long> HeapBytesAfterFullCollection();
}

public sealed class SiloProbeGrain : Grain, ISiloProbeGrain
{
    public Task<long> HeapBytesAfterFullCollection()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return Task.FromResult(GC.GetTotalMemory(forceFullCollection: false));
    }
}
