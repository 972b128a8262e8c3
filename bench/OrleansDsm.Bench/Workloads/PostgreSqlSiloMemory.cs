using Npgsql;
using OrleansDsm.Connection;
using OrleansDsm.Regions;

namespace OrleansDsm.Bench.Workloads;

/// <summary>
/// Issue 6's memory goal in PostgreSQL mode, on the batched-store silo: its working set (the kernel's resident set,
/// VmRSS) while it holds 100,000 written 4 KiB pages active; and what a 100 GiB region costs before it is touched,
/// in the silo's resident set and in page rows in the database, across its allocation and three reads.
/// </summary>
public static class PostgreSqlSiloMemory
{
    private const long SparseBytes = 100L << 30;
    private const int PagesPerWrite = 1024;

    public static async Task RunAsync(BenchContext context)
    {
        if (context.Durable is not { } targets)
        {
            Console.Error.WriteLine("bench: no PostgreSQL, so no PostgreSQL memory figures");
            return;
        }
        var pages = context.Quick ? 20_000 : 100_000;
        await using var client = await DsmClient.ConnectAsync(new DsmClientOptions
        {
            Gateways = [targets.BatchedGateway], ClusterId = "bench-batched", ServiceId = "bench-batched", ConnectTimeout = TimeSpan.FromSeconds(30),
        });
        // The product silo's DATAS target comes from the same build property as this process's runtime configuration.
        var setup = $"storage=PostgreSQL 15, batched page store; silos=1 (the product's silo, server GC, DATAS target {AppContext.GetData("System.GC.DTargetTCP")}%)";

        var (rowsBefore, residentBefore) = (await PageRowsAsync(targets.Database), ResidentBytes(targets.BatchedSilo));
        var sparse = await client.AllocateAsync<long>($"bench-sparse-{Guid.NewGuid():N}", SparseBytes / sizeof(long), Consistency.Uncached);
        foreach (var index in new[] { 0, sparse.Length / 2, sparse.Length - 1 })
            if (await sparse.GetAsync(index) != 0) throw new InvalidOperationException($"Element {index} of a region never written reads non-zero.");
        var (rowsAfter, residentAfter) = (await PageRowsAsync(targets.Database), ResidentBytes(targets.BatchedSilo));
        await client.FreeAsync(sparse.Name);
        var sparseConditions = $"{setup}; activations=cold (the three pages read are activated by the reads); a 100 GiB region of int64 allocated, then its first, middle and last elements read";
        context.Report.Add("dsm.pg.sparse_100gib.page_rows_added", rowsAfter - rowsBefore, "rows", sparseConditions + "; rows in dsm_pages after, less before");
        context.Report.Add("dsm.pg.sparse_100gib.silo_resident_growth", (residentAfter - residentBefore) / 1048576.0, "MiB", sparseConditions + "; the silo's VmRSS after, less before");

        var array = await client.AllocateAsync<long>($"bench-resident-{Guid.NewGuid():N}", pages * 512L, Consistency.Uncached);
        var chunk = new long[PagesPerWrite * 512];
        for (var first = 0; first < pages; first += PagesPerWrite)
        {
            var count = Math.Min(PagesPerWrite, pages - first);
            Array.Fill(chunk, first + 1L); // every page written whole, none of it zeros
            await array.WriteAsync(first * 512L, chunk.AsMemory(0, count * 512));
        }
        var lastWrite = (pages - 1) / PagesPerWrite * PagesPerWrite;
        if (await array.GetAsync((pages - 1) * 512L) != lastWrite + 1L)
            throw new InvalidOperationException("The last page does not hold what was written to it.");
        var resident = ResidentBytes(targets.BatchedSilo);
        var conditions = $"{setup}; activations=warm (every page written whole just before, and active: pages idle for 2 min are collected); {pages} pages of 4 KiB in one Uncached region, written in range writes of {PagesPerWrite} pages";
        // Named by the count, so that --quick's 20,000 pages never stand for the goal's 100,000.
        context.Report.Add($"dsm.pg.silo.resident_set_with_{pages / 1000}k_pages", resident / 1048576.0, "MiB", conditions + "; the silo's VmRSS once the last write returned");
        context.Report.Add("dsm.pg.silo.resident_set_before_pages", residentAfter / 1048576.0, "MiB", conditions + "; the silo's VmRSS before the region was allocated (the silo's first workload: no other page of the bench is active in it)");
        context.Report.Add("dsm.pg.silo.resident_bytes_per_page", (resident - residentAfter) / (double)pages, "B/page", conditions + "; the growth of VmRSS divided by the pages");
        await client.FreeAsync(array.Name);
    }

    /// <summary>The resident set of process <paramref name="processId"/> (VmRSS in /proc), in bytes.</summary>
    private static long ResidentBytes(int processId)
    {
        var line = File.ReadLines($"/proc/{processId}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    private static async Task<long> PageRowsAsync(string database)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM dsm_pages", connection);
        return (long)(await count.ExecuteScalarAsync())!;
    }
}
