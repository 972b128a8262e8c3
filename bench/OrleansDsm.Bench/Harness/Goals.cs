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
        report.Goal("uncached get p50 at most 1.5x Redis GET (StackExchange.Redis, one outstanding)",
            "ratio.dsm.get.p50_vs_redis", v => v <= 1.5, "redis.get.p50");
        report.Goal("uncached set p50 at most 1.5x Redis SET (StackExchange.Redis, one outstanding)",
            "ratio.dsm.set.p50_vs_redis", v => v <= 1.5, "redis.set.p50");
        report.Goal("uncached get throughput at 256 outstanding at least Redis GET non-pipelined with 256 outstanding (one connection per request in flight)",
            "ratio.dsm.get.ops_256_vs_redis", v => v >= 1, "redis.get.ops_256");
        report.Goal("uncached set throughput at 256 outstanding at least Redis SET non-pipelined with 256 outstanding (one connection per request in flight)",
            "ratio.dsm.set.ops_256_vs_redis", v => v >= 1, "redis.set.ops_256");
        report.Goal("atomic add on one hot element from 4 clients at least 0.5x Redis INCRBY at the same concurrency",
            "ratio.dsm.atomic_add.hot_vs_redis_incrby", v => v >= 0.5, "redis.incrby.hot.ops");
        report.Goal("64 MiB WriteAsync at least Redis SETRANGE in 64 KiB chunks, pipelined",
            "ratio.dsm.bulk.write_64mib_vs_redis", v => v >= 1, "redis.bulk.write_64mib");
        report.Goal("64 MiB ReadAsync at least Redis GETRANGE in 64 KiB chunks, pipelined",
            "ratio.dsm.bulk.read_64mib_vs_redis", v => v >= 1, "redis.bulk.read_64mib");
        report.Goal("64 MiB WriteAsync at least 150 MB/s", "dsm.bulk.write_64mib", v => v >= 150, "orleans.bulk.write_64mib_stored");
        report.Goal("64 MiB ReadAsync at least 150 MB/s", "dsm.bulk.read_64mib", v => v >= 150, "orleans.bulk.read_64mib_transport");
        report.Goal("a resident page costs at most page size + 1 KiB (5120 B) beyond storage",
            "dsm.silo.resident_page_bytes", v => v <= 4096 + 1024, "orleans.silo.resident_empty_grain_bytes");
        report.Goal("PostgreSQL mode: a silo holding 100,000 resident 4 KiB pages stays under 1 GiB of working set (VmRSS)",
            "dsm.pg.silo.resident_set_with_100k_pages", v => v < 1024, "dsm.pg.silo.resident_set_before_pages");
        report.Goal("PostgreSQL mode: a 100 GiB region costs nothing until touched (no page row after allocating it and reading three elements)",
            "dsm.pg.sparse_100gib.page_rows_added", v => v == 0, "dsm.pg.sparse_100gib.silo_resident_growth");
        report.Goal("cached indexer read, sequential, at most 10 ns per element", "dsm.cached.read_sequential", v => v <= 10, "local.read_sequential");
        report.Goal("cached indexer read, random, at most 10 ns per element", "dsm.cached.read_random", v => v <= 10, "local.read_random");
        report.Goal("cached indexer read, random, of pages this client wrote an element of after caching them, at most 10 ns per element",
            "dsm.cached.read_random_written_pages", v => v <= 10, "local.read_random");
        report.Goal("cached bulk ReadAsync at least 2 GB/s", "dsm.cached.bulk_read_4mib", v => v >= 2, "local.copy_4mib");
        report.Goal("cached bulk ReadAsync at most 2x a plain copy", "ratio.dsm.cached.bulk_read_vs_local_copy_time", v => v <= 2, "local.copy_4mib");
        report.Goal("Zipf 95/5 from 4 clients of 16 outstanding each: Strict at least 5x Uncached", "ratio.dsm.zipf95.strict_vs_uncached", v => v >= 5, "dsm.zipf95.uncached.ops");
        report.Goal("Zipf 95/5 from 4 clients of one operation at a time each: Strict at least 5x Uncached", "ratio.dsm.zipf95.one_each.strict_vs_uncached", v => v >= 5,
            "dsm.zipf95.one_each.uncached.ops");
        report.Goal("Zipf 95/5 from 4 client processes of one operation at a time each: Strict at least 5x Uncached", "ratio.dsm.zipf95.processes.strict_vs_uncached",
            v => v >= 5, "dsm.zipf95.processes.uncached.ops");
        report.Goal("a write to a page cached by one other client at most 2x an uncached write", "ratio.dsm.set.cached_by_other_vs_uncached", v => v <= 2, "ratio.orleans.call_with_client_callback_vs_plain");
        report.Goal("durable writes to distinct pages from 256 outstanding calls at least 0.8x pgbench's best one-row 4 KiB upsert (16 or 64 clients)",
            "ratio.dsm.durable.batched.set_distinct_pages_vs_pg_best", v => v >= 0.8, "pg.upsert_4kib.tps_best");
        report.Goal("durable element writes to one hot page from 256 outstanding calls at least 5x one write at a time",
            "ratio.dsm.durable.batched.set_hot_page_256_vs_1", v => v >= 5, "dsm.durable.batched.set_hot_page.ops_1");
        report.Goal("failover: from kill -9 of a silo to a successful write on every page it hosted, at most failure detection + one lease + one retry interval",
            "dsm.failover.kill_to_every_page_written", v => v <= report.Value("dsm.failover.bound"), "dsm.failover.bound");
        report.Goal("lock acquire plus release, uncontended, at most 2 bare grain calls' time", "ratio.dsm.lock.acquire_release_vs_orleans_call", v => v <= 2, "orleans.call.p50");
        report.Goal("Jacobi 512x512, 100 iterations, 2 workers hosted in the silo, Release, within 5x of the same stencil on a local array",
            "ratio.dsm.jacobi_512.silo_hosted.release_vs_local", v => v <= 5, "local.jacobi_512.seconds");
        report.Goal("mapped region, pages present: reading through the span at most 1.2x a plain array",
            "ratio.dsm.mapped.present_read_vs_local", v => v <= 1.2, "local.sum_int64");
        report.Goal("mapped region, first touch: time per fault at most 1.5x an uncached page read through the client",
            "ratio.dsm.mapped.fault_vs_uncached_page_read", v => v <= 1.5, "dsm.uncached.page_read");
        report.Goal("renewals: at most one per silo per half lease, whatever the pages cached (1 silo: <= 2/s)", "dsm.cache.renewals_per_lease_per_silo", v => v <= 2.2, "dsm.cache.pages_cached");
    }
}
