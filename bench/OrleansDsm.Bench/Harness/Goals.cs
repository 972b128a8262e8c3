namespace OrleansDsm.Bench.Harness;

/// <summary>The speed and memory goals of the issues, checked against this run's figures, each beside its anchor.</summary>
public static class Goals
{
    public static void Declare(Report report)
    {
        report.Goal("uncached get p50 at most 1.3x a bare grain call with the same payload",
            "ratio.dsm.get.p50_vs_orleans", v => v <= 1.3, "orleans.get.p50");
        report.Goal("uncached set p50 at most 1.3x a bare call that writes the same state to the same storage",
            "ratio.dsm.set.p50_vs_orleans_stored", v => v <= 1.3, "orleans.set_stored.p50");
        report.Goal("64 MiB WriteAsync at least 150 MB/s", "dsm.bulk.write_64mib", v => v >= 150, "orleans.bulk.write_64mib_stored");
        report.Goal("64 MiB ReadAsync at least 150 MB/s", "dsm.bulk.read_64mib", v => v >= 150);
        report.Goal("a resident page costs at most page size + 1 KiB (5120 B) beyond storage",
            "dsm.silo.resident_page_bytes", v => v <= 4096 + 1024, "orleans.silo.resident_empty_grain_bytes");
    }
}
