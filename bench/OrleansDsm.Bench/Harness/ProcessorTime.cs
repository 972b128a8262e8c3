namespace OrleansDsm.Bench.Harness;

/// <summary>Processor time a process has used, for figures of what an operation cost each process.</summary>
public static class ProcessorTime
{
    /// <summary>The processor time (user and system) process <paramref name="processId"/> has used so far, in seconds; 0 when not given.</summary>
    public static double Seconds(int? processId)
    {
        if (processId is not { } id) return 0;
        using var process = System.Diagnostics.Process.GetProcessById(id);
        return process.TotalProcessorTime.TotalSeconds;
    }
}
