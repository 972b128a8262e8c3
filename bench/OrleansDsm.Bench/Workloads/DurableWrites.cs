using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using OrleansDsm.Bench.Harness;
using OrleansDsm.Connection;
using OrleansDsm.Regions;

namespace OrleansDsm.Bench.Workloads;

/// <summary>
/// Durable writes on PostgreSQL, beside the database's own floor: element writes to distinct pages and to one hot page
/// from 256 outstanding calls, through the batched page store and through Orleans' AdoNet provider; and pgbench running
/// the equivalent one-row upsert of a 4 KiB row at 16 and 64 clients on the same server.
/// </summary>
public static partial class DurableWrites
{
    private const int Pages = 2048;

    public static async Task RunAsync(BenchContext context)
    {
        if (context.Durable is not { } targets)
        {
            Console.Error.WriteLine("bench: no PostgreSQL, so no durable figures");
            return;
        }
        var settings = await SettingsAsync(targets.Database);
        var conditions = $"storage=PostgreSQL 15 on this machine ({settings}); silos=1; region=Uncached; activations=warm; {Pages} pages of 4 KiB";
        var rates = new Dictionary<string, double>();
        foreach (var (store, gateway) in new[] { ("batched", targets.BatchedGateway), ("adonet", targets.AdoNetGateway) })
        {
            await using var client = await DsmClient.ConnectAsync(new DsmClientOptions
            {
                Gateways = [gateway], ClusterId = $"bench-{store}", ServiceId = $"bench-{store}", ConnectTimeout = TimeSpan.FromSeconds(30),
            });
            var array = await client.AllocateAsync<long>($"bench-durable-{Guid.NewGuid():N}", Pages * 512L, Consistency.Uncached);
            await array.WriteAsync(0, Noise(Pages * 512));
            var calls = context.Quick ? 3_000 : 20_000;
            var distinct = new List<double>();
            var hot = new List<double>();
            var single = new List<double>();
            for (var run = 0; run < context.Runs; run++)
            {
                distinct.Add(await Measure.ThroughputAsync(i => array.SetAsync(i % Pages * 512L + i / Pages % 512, i), calls, 256));
                hot.Add(await Measure.ThroughputAsync(i => array.SetAsync(i % 512, i), calls / 2, 256));
                single.Add(await Measure.ThroughputAsync(i => array.SetAsync(i % 512, i), context.Quick ? 200 : 500, 1));
            }
            var page = $"{store} page store, {context.Runs} runs, median";
            context.Report.Add($"dsm.durable.{store}.set_distinct_pages.ops_256", rates[$"{store}.distinct"] = Stats.Median(distinct), "ops/s", $"{conditions}; {page}; 256 outstanding over {Pages} pages");
            context.Report.Add($"dsm.durable.{store}.set_hot_page.ops_256", rates[$"{store}.hot"] = Stats.Median(hot), "ops/s", $"{conditions}; {page}; 256 outstanding on one page");
            context.Report.Add($"dsm.durable.{store}.set_hot_page.ops_1", rates[$"{store}.single"] = Stats.Median(single), "ops/s", $"{conditions}; {page}; one call at a time on one page (one write, one commit)");
            context.Report.Ratio($"dsm.durable.{store}.set_hot_page_256_vs_1", rates[$"{store}.hot"], rates[$"{store}.single"], $"{conditions}; {page}");
            await client.FreeAsync(array.Name);
        }

        var best = 0.0;
        foreach (var mode in new[] { "simple", "prepared" })
            foreach (var clients in new[] { 16, 64 })
            {
                var tps = await PgbenchAsync(targets, clients, mode, context.Quick ? 3 : 10);
                context.Report.Add($"pg.upsert_4kib.{mode}.tps_{clients}", tps, "tx/s", $"pgbench -n -M {mode} -c {clients} -j 2, one-row upsert of a random 4 KiB bytea over {Pages} rows; PostgreSQL 15 ({settings})");
                best = Math.Max(best, tps);
            }
        context.Report.Add("pg.upsert_4kib.tps_best", best, "tx/s", $"the best of pgbench at 16 and 64 clients, simple and prepared protocol; PostgreSQL 15 ({settings})");
        foreach (var store in new[] { "batched", "adonet" })
            context.Report.Ratio($"dsm.durable.{store}.set_distinct_pages_vs_pg_best", rates[$"{store}.distinct"], best, $"{conditions}; {store} page store against pgbench's best, same server, same run");
    }

    private static long[] Noise(int count)
    {
        var noise = new long[count];
        new Random(7).NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(noise.AsSpan()));
        return noise;
    }

    private static async Task<string> SettingsAsync(string database)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        async Task<string> Show(string name)
        {
            await using var command = new NpgsqlCommand($"SHOW {name}", connection);
            return $"{name}={await command.ExecuteScalarAsync()}";
        }
        return $"{await Show("fsync")}, {await Show("synchronous_commit")}";
    }

    /// <summary>Runs pgbench's upsert of one random 4 KiB row per transaction and returns its transactions a second.</summary>
    private static async Task<double> PgbenchAsync(DurableTargets targets, int clients, string mode, int seconds)
    {
        var builder = new NpgsqlConnectionStringBuilder(targets.Database);
        await using (var connection = new NpgsqlConnection(targets.Database))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand("DROP TABLE IF EXISTS bench_rows; CREATE TABLE bench_rows (id int PRIMARY KEY, payload bytea NOT NULL)", connection);
            await create.ExecuteNonQueryAsync();
            await using var batch = new NpgsqlBatch(connection);
            var random = new Random(3);
            for (var id = 1; id <= Pages; id++)
            {
                var payload = new byte[4096];
                random.NextBytes(payload);
                batch.BatchCommands.Add(new NpgsqlBatchCommand("INSERT INTO bench_rows VALUES ($1, $2)") { Parameters = { new() { Value = id }, new() { Value = payload } } });
            }
            await batch.ExecuteNonQueryAsync();
        }
        var row = new byte[4096];
        new Random(5).NextBytes(row);
        var script = Path.GetTempFileName();
        await File.WriteAllTextAsync(script,
            $"\\set id random(1, {Pages})\nINSERT INTO bench_rows (id, payload) VALUES (:id, '\\x{Convert.ToHexString(row)}') ON CONFLICT (id) DO UPDATE SET payload = EXCLUDED.payload;\n");
        try
        {
            var start = new ProcessStartInfo(targets.Pgbench)
            {
                ArgumentList = { "-n", "-M", mode, "-c", clients.ToString(CultureInfo.InvariantCulture), "-j", "2", "-T", seconds.ToString(CultureInfo.InvariantCulture), "-f", script,
                                 "-h", builder.Host!, "-p", builder.Port.ToString(CultureInfo.InvariantCulture), "-U", builder.Username!, builder.Database! },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var pgbench = Process.Start(start)!;
            var output = await pgbench.StandardOutput.ReadToEndAsync();
            var errors = await pgbench.StandardError.ReadToEndAsync();
            await pgbench.WaitForExitAsync();
            var tps = Tps().Match(output);
            if (pgbench.ExitCode != 0 || !tps.Success) throw new InvalidOperationException($"pgbench failed ({pgbench.ExitCode}): {output} {errors}");
            return double.Parse(tps.Groups[1].Value, CultureInfo.InvariantCulture);
        }
        finally
        {
            File.Delete(script);
        }
    }

    [GeneratedRegex(@"tps = ([0-9.]+) \(without initial connection time\)")]
    private static partial Regex Tps();
}
