using System.Diagnostics;
using System.Globalization;
using OrleansDsm.Connection;
using OrleansDsm.Mapping;
using OrleansDsm.Tests.Processes;

namespace OrleansDsm.Tests.Mapping;

/// <summary>
/// Regions mapped into the test process (userfaultfd, faults served by the pager process) against a real silo: loads
/// see the array, released stores reach other processes, acquire drops stale pages, pages written between releases in
/// a row stop faulting, a terabyte costs only the pages touched, garbage collections racing faults do not deadlock, and
/// a pager that cannot start says why.
/// One class, so that its tests run one at a time: several count the pager processes this test process has started.
/// </summary>
public sealed class MappedRegionTests(SiloProcessFixture fixture) : IClassFixture<SiloProcessFixture>
{
    private const int LongsPerPage = 4096 / sizeof(long);

    [Fact]
    public async Task Loads_see_the_arrays_contents_and_released_stores_are_seen_by_another_process()
    {
        await using var client = await fixture.Silo.ConnectAsync();
        var array = await client.AllocateAsync<long>(UniqueNames.For("mapped"), 16 * LongsPerPage);
        var values = Enumerable.Range(0, 16 * LongsPerPage).Select(i => (long)i * 11).ToArray();
        await array.WriteAsync(0, values);

        await using var mapped = await array.MapAsync();
        Assert.Equal(values, mapped.GetSpan(0, values.Length).ToArray());
        var span = mapped.GetSpan(0, values.Length);
        span[3] = -3;
        span[7 * LongsPerPage + 5] = -75;
        StoreThroughPointer(mapped, 15 * LongsPerPage, -150);
        await mapped.ReleaseAsync();

        var statistics = await mapped.GetStatisticsAsync();
        Assert.Equal((16L, 3L, 16L, 0L, 3L, 3L * sizeof(long)), (statistics.MissingFaults, statistics.WriteFaults, statistics.PresentPages,
            statistics.DirtyPages, statistics.ReleasedPages, statistics.ReleasedBytes));
        Assert.Equal("-3", (await fixture.Dsm("get", array.Name, "3")).Stdout);
        Assert.Equal("-75", (await fixture.Dsm("get", array.Name, (7 * LongsPerPage + 5).ToString(CultureInfo.InvariantCulture))).Stdout);
        Assert.Equal("-150", (await fixture.Dsm("get", array.Name, (15 * LongsPerPage).ToString(CultureInfo.InvariantCulture))).Stdout);
        Assert.Equal((7 * LongsPerPage + 6) * 11L, await array.GetAsync(7 * LongsPerPage + 6)); // bytes not stored are not sent
    }

    [Fact]
    public async Task Acquire_drops_only_pages_another_writer_changed_so_its_data_becomes_visible_and_keeps_unreleased_stores()
    {
        await using var client = await fixture.Silo.ConnectAsync();
        var array = await client.AllocateAsync<long>(UniqueNames.For("acquire"), 4 * LongsPerPage);
        await using var mapped = await array.MapAsync();
        Assert.Equal(0, mapped.GetSpan(0, 1)[0]);
        Assert.Equal(0, mapped.GetSpan(LongsPerPage, 1)[0]);
        Assert.Equal(0, mapped.GetSpan(2 * LongsPerPage, 1)[0]);

        Assert.Equal(0, (await fixture.Dsm("set", array.Name, "0", "42")).ExitCode);
        Assert.Equal(0, mapped.GetSpan(0, 1)[0]); // the present copy stays until an acquire
        mapped.GetSpan(2 * LongsPerPage, 1)[0] = 7; // a store not yet released
        await mapped.AcquireAsync();

        Assert.Equal(42, mapped.GetSpan(0, 1)[0]); // dropped, and fetched afresh
        Assert.Equal(0, mapped.GetSpan(LongsPerPage, 1)[0]); // no one wrote it: kept, no fault
        Assert.Equal(7, mapped.GetSpan(2 * LongsPerPage, 1)[0]);
        var statistics = await mapped.GetStatisticsAsync();
        Assert.Equal((1L, 4L), (statistics.DroppedPages, statistics.MissingFaults));
    }

    [Fact]
    public async Task A_page_written_between_releases_in_a_row_stops_faulting_and_its_stores_are_still_released()
    {
        await using var client = await fixture.Silo.ConnectAsync();
        var array = await client.AllocateAsync<long>(UniqueNames.For("writable"), 4 * LongsPerPage);
        await using var mapped = await array.MapAsync();

        for (var round = 1; round <= 5; round++)
        {
            var span = mapped.GetSpan(0, 4 * LongsPerPage);
            for (var page = 0; page < 3; page++) span[page * LongsPerPage + round] = 100 * page + round;
            if (round == 1) span[3 * LongsPerPage] = -1; // written once: protected again at the first release
            var before = await mapped.GetStatisticsAsync();
            Assert.Equal(round <= 2 ? 0 : 3, before.WritablePages);
            Assert.Equal(round == 1 ? 4 : 3, before.DirtyPages); // found by comparing with twins
            await mapped.ReleaseAsync();
            for (var page = 0; page < 3; page++) Assert.Equal(100 * page + round, await array.GetAsync(page * LongsPerPage + round));
        }
        var written = await mapped.GetStatisticsAsync();
        // Round 1's stores faulted the pages in (missing faults), round 2's each took a write fault, rounds 3 to 5 none.
        Assert.Equal((4L, 3L, 3L, 0L, 4L + 4 * 3), (written.MissingFaults, written.WriteFaults, written.WritablePages, written.DirtyPages, written.ReleasedPages));
        Assert.Equal(-1, await array.GetAsync(3 * LongsPerPage));

        // Eight releases in a row that find them unchanged protect them again: the next store faults, and is released.
        for (var unchanged = 1; unchanged < 8; unchanged++) await mapped.ReleaseAsync();
        Assert.Equal(3, (await mapped.GetStatisticsAsync()).WritablePages);
        await mapped.ReleaseAsync();
        var protectedAgain = await mapped.GetStatisticsAsync();
        Assert.Equal((3L, 0L), (protectedAgain.WriteFaults, protectedAgain.WritablePages));
        mapped.GetSpan(LongsPerPage + 9, 1)[0] = 77;
        await mapped.ReleaseAsync();
        Assert.Equal(4, (await mapped.GetStatisticsAsync()).WriteFaults);
        Assert.Equal("77", (await fixture.Dsm("get", array.Name, (LongsPerPage + 9).ToString(CultureInfo.InvariantCulture))).Stdout);
    }

    [Fact]
    public async Task Acquire_drops_a_writable_page_another_process_changed_unless_this_one_wrote_it_since_its_release()
    {
        await using var client = await fixture.Silo.ConnectAsync();
        var array = await client.AllocateAsync<long>(UniqueNames.For("writable-acquire"), 2 * LongsPerPage);
        await using var mapped = await array.MapAsync();
        for (var round = 1; round <= 2; round++)
        {
            mapped.GetSpan(0, 1)[0] = round;
            mapped.GetSpan(LongsPerPage, 1)[0] = round;
            await mapped.ReleaseAsync();
        }
        Assert.Equal(2, (await mapped.GetStatisticsAsync()).WritablePages);

        // Another process writes other words of both pages; this one stores into the second page again, unreleased.
        Assert.Equal(0, (await fixture.Dsm("set", array.Name, "5", "55")).ExitCode);
        Assert.Equal(0, (await fixture.Dsm("set", array.Name, (LongsPerPage + 5).ToString(CultureInfo.InvariantCulture), "56")).ExitCode);
        mapped.GetSpan(LongsPerPage + 1, 1)[0] = 3;
        await mapped.AcquireAsync();

        Assert.Equal(55, mapped.GetSpan(5, 1)[0]); // clean since its release: dropped, and fetched afresh
        Assert.Equal((0L, 3L), (mapped.GetSpan(LongsPerPage + 5, 1)[0], mapped.GetSpan(LongsPerPage + 1, 1)[0])); // kept, store and all
        var statistics = await mapped.GetStatisticsAsync();
        Assert.Equal((1L, 1L, 1L), (statistics.DroppedPages, statistics.WritablePages, statistics.DirtyPages));
        await mapped.ReleaseAsync();
        Assert.Equal((3L, 56L), (await array.GetAsync(LongsPerPage + 1), await array.GetAsync(LongsPerPage + 5))); // only the word it wrote went
    }

    [Fact]
    public async Task Mapping_a_terabyte_and_touching_three_pages_costs_three_pages_and_three_faults()
    {
        var client = await fixture.Silo.ConnectAsync();
        var array = await client.AllocateAsync<byte>(UniqueNames.For("terabyte"), 1L << 40);
        await array.SetAsync(5L << 30, 9);

        var mapped = await array.MapAsync();
        var start = AddressOf(mapped);
        Assert.Equal(1, MappingsOf(array.Name));
        Assert.Contains("anon_inode:[userfaultfd]", OpenDescriptors());
        var pager = Assert.Single(PagerChildren());
        Assert.Equal(0, ResidentKilobytes(start));

        var touched = mapped.GetSpan(0, 1)[0] + mapped.GetSpan(5L << 30, 1)[0] + mapped.GetSpan((1L << 40) - 1, 1)[0];

        Assert.Equal(9, touched);
        Assert.Equal(3 * 4, ResidentKilobytes(start));
        Assert.Equal(3, (await mapped.GetStatisticsAsync()).MissingFaults);
        await mapped.DisposeAsync();
        Assert.DoesNotContain("anon_inode:[userfaultfd]", OpenDescriptors());
        Assert.Equal(0, MappingsOf(array.Name));
        Assert.Equal([pager], PagerChildren()); // the pager stays, warm, for the client's next mapping
        await client.DisposeAsync();
        Assert.Empty(PagerChildren()); // and goes with the client
    }

    [Fact]
    public async Task Disposing_the_client_unmaps_the_mappings_it_left_open()
    {
        var client = await fixture.Silo.ConnectAsync();
        var array = await client.AllocateAsync<long>(UniqueNames.For("left-open"), 4 * LongsPerPage);
        var first = await array.MapAsync();
        await using var second = await array.MapAsync();
        Assert.Equal(0L, first.GetSpan(0, 1)[0]);
        Assert.Equal(2, MappingsOf(array.Name));
        await second.DisposeAsync(); // the program's own disposal, before the client's

        await client.DisposeAsync();

        // Gone, rather than mapped with no pager left to serve its faults: a touch would end the process, not wait.
        Assert.Equal(0, MappingsOf(array.Name));
        Assert.DoesNotContain("anon_inode:[userfaultfd]", OpenDescriptors());
        Assert.Empty(PagerChildren());
        Assert.Throws<ObjectDisposedException>(() => first.GetSpan(0, 1).Length);
        await first.DisposeAsync(); // and the program's own disposal after it does nothing more
    }

    [Fact]
    public async Task Mappings_of_one_client_share_one_pager()
    {
        await using var client = await fixture.Silo.ConnectAsync();
        var first = await client.AllocateAsync<int>(UniqueNames.For("shared-pager-a"), 4096);
        var second = await client.AllocateAsync<int>(UniqueNames.For("shared-pager-b"), 4096);
        await second.SetAsync(1, 2);

        await using var one = await first.MapAsync();
        await using var two = await second.MapAsync();
        one.GetSpan(0, 1)[0] = 1;
        await one.ReleaseAsync();

        Assert.Single(PagerChildren());
        Assert.Equal(2, two.GetSpan(1, 1)[0]);
        Assert.Equal(1, await first.GetAsync(0));
        Assert.Equal((1L, 1L), ((await one.GetStatisticsAsync()).MissingFaults, (await two.GetStatisticsAsync()).MissingFaults));
    }

    [Fact]
    public async Task A_pager_that_cannot_start_says_why_in_the_error_its_client_raises()
    {
        // No one listens on a port the kernel just handed out and took back.
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var closed = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var connection = new PagerConnection
        {
            Gateways = [$"127.0.0.1:{closed}"], ClusterId = "dsm", ServiceId = "orleans-dsm", ClientProcessId = Environment.ProcessId,
        };

        var unreachable = await Assert.ThrowsAsync<IOException>(() => PagerProcess.StartAsync(connection, CancellationToken.None));

        Assert.StartsWith($"The pager did not start: Cannot reach the cluster at 127.0.0.1:{closed}: no gateway answered", unreachable.Message);

        // Its connection line empty or not JSON, the pager answers why in place of "ready" and ends.
        Assert.Equal("error InvalidDataException\tThe pager expects its connection as one line of JSON on standard input.", await FirstAnswerToAsync("null"));
        Assert.StartsWith("error JsonException\t", await FirstAnswerToAsync("gateways: 127.0.0.1"));
    }

    [Fact]
    public async Task Garbage_collections_forced_while_faults_are_in_flight_do_not_deadlock()
    {
        await using var client = await fixture.Silo.ConnectAsync();
        const int Pages = 240;
        var array = await client.AllocateAsync<long>(UniqueNames.For("gc-faults"), Pages * LongsPerPage);
        await array.WriteAsync(0, Enumerable.Range(0, Pages).Select(page => (long)page).SelectMany(page => Enumerable.Repeat(page, LongsPerPage)).ToArray());
        await using var mapped = await array.MapAsync();

        var (finished, collections, sums, elapsed) = TouchWhileCollecting(AddressOf(mapped), Pages);

        Assert.True(finished, $"faults did not finish within {elapsed} beside {collections} forced collections: a deadlock");
        Assert.True(collections > 10, $"only {collections} collections ran while faults were served");
        Assert.Equal((long)Pages * (Pages - 1) / 2, sums.Sum());
        Assert.Equal(Pages, (await mapped.GetStatisticsAsync()).MissingFaults);
    }

    [Fact]
    public async Task A_client_that_did_not_make_its_own_connection_is_told_mapping_needs_one()
    {
        await using var raw = await RawOrleansClient.ConnectAsync(fixture.Silo.Gateway);
        await using var client = new DsmClient(raw.Grains);
        var array = await client.AllocateAsync<int>(UniqueNames.For("hosted"), 10);

        var refused = await Assert.ThrowsAsync<NotSupportedException>(() => array.MapAsync());
        Assert.Contains("DsmClient.ConnectAsync", refused.Message);
        Assert.DoesNotContain("anon_inode:[userfaultfd]", OpenDescriptors());
    }

    [Fact]
    public async Task A_scan_in_order_reads_ahead_when_asked_and_touches_out_of_order_do_not()
    {
        await using var client = await fixture.Silo.ConnectAsync();
        const int Pages = 64;
        var array = await client.AllocateAsync<long>(UniqueNames.For("read-ahead"), Pages * LongsPerPage);
        var values = Enumerable.Range(0, Pages * LongsPerPage).Select(i => (long)i * 7).ToArray();
        await array.WriteAsync(0, values);

        await using (var scanned = await array.MapAsync(new MappingOptions { ReadAheadPages = 8 }))
        {
            Assert.Equal(values, scanned.GetSpan(0, values.Length).ToArray());
            var statistics = await scanned.GetStatisticsAsync();
            // Every page came in once, by a fault or ahead of one: a fault per stretch of 9 pages, and the first two.
            Assert.Equal((long)Pages, statistics.PresentPages);
            Assert.Equal((long)Pages, statistics.MissingFaults + statistics.ReadAheadPages);
            Assert.InRange(statistics.MissingFaults, 2, 16);
        }

        await using var scattered = await array.MapAsync(new MappingOptions { ReadAheadPages = 8 });
        foreach (var page in new[] { 40, 3, 17, 60, 9, 33 })
            Assert.Equal(values[page * LongsPerPage], scattered.GetSpan((long)page * LongsPerPage, 1)[0]);
        var scatteredStatistics = await scattered.GetStatisticsAsync();
        Assert.Equal((6L, 0L, 6L), (scatteredStatistics.MissingFaults, scatteredStatistics.ReadAheadPages, scatteredStatistics.PresentPages));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(257)]
    public async Task A_read_ahead_out_of_range_is_refused_before_anything_is_mapped(int pages)
    {
        await using var client = await fixture.Silo.ConnectAsync();
        var array = await client.AllocateAsync<long>(UniqueNames.For("read-ahead-refused"), LongsPerPage);

        var refused = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => array.MapAsync(new MappingOptions { ReadAheadPages = pages }));
        Assert.Contains("ReadAheadPages is from 0 to 256", refused.Message);
        Assert.DoesNotContain("anon_inode:[userfaultfd]", OpenDescriptors());
    }

    [Fact]
    public async Task Windows_outside_the_region_are_refused()
    {
        await using var client = await fixture.Silo.ConnectAsync();
        var array = await client.AllocateAsync<int>(UniqueNames.For("windows"), 100);
        await using var mapped = await array.MapAsync();

        Assert.Throws<ArgumentOutOfRangeException>(() => mapped.GetSpan(90, 11));
        Assert.Throws<ArgumentOutOfRangeException>(() => mapped.GetMemory(-1, 1));
        Assert.Equal(100, mapped.GetMemory(0, 100).Length);
        Assert.Equal(0, (await mapped.GetStatisticsAsync()).MissingFaults); // refusing touched nothing
    }

    /// <summary>
    /// Four threads fault in every page (each its own quarter, allocating as they go) while another forces full
    /// collections one after another; returns whether the four finished within 90 s, how many collections ran, and the
    /// first element of each page summed per thread.
    /// </summary>
    private static unsafe (bool Finished, int Collections, long[] Sums, TimeSpan Elapsed) TouchWhileCollecting(nint start, int pages)
    {
        var pointer = (long*)start;
        using var stop = new CancellationTokenSource();
        var collections = 0;
        // Background threads: should one hang in a fault, it must not keep the test process alive after the run.
        var collector = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect(2, GCCollectionMode.Forced, blocking: true);
                collections++;
                // A breath between collections: with the heap of a whole test run a collection is slow, and back to
                // back they would leave the faulting threads almost no time to run at all.
                Thread.Sleep(2);
            }
        }) { IsBackground = true };
        collector.Start();
        var sums = new long[4];
        var touchers = Enumerable.Range(0, 4).Select(thread => new Thread(() =>
        {
            for (var page = thread; page < pages; page += 4)
            {
                sums[thread] += pointer[(long)page * LongsPerPage];
                _ = new byte[1024];
            }
        }) { IsBackground = true }).ToList();
        var clock = Stopwatch.StartNew();
        touchers.ForEach(toucher => toucher.Start());
        var finished = touchers.All(toucher => toucher.Join(TimeSpan.FromSeconds(90)));
        stop.Cancel();
        collector.Join();
        return (finished, collections, sums, clock.Elapsed);
    }

    private static unsafe nint AddressOf<T>(MappedRegion<T> mapped) where T : unmanaged => (nint)mapped.Pointer;

    private static unsafe void StoreThroughPointer(MappedRegion<long> mapped, long index, long value) => mapped.Pointer[index] = value;

    /// <summary>The first line a pager started by hand answers to <paramref name="connection"/>, once it has ended with exit code 1.</summary>
    private static async Task<string?> FirstAnswerToAsync(string connection)
    {
        var start = BuiltPrograms.Dotnet(Path.Combine(AppContext.BaseDirectory, PagerProcess.AssemblyName), []);
        start.RedirectStandardInput = true;
        using var pager = Process.Start(start)!;
        await pager.StandardInput.WriteLineAsync(connection);
        var answer = await pager.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await pager.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, pager.ExitCode);
        return answer;
    }

    /// <summary>The process ids of this process's children that run the pager.</summary>
    private static List<int> PagerChildren() => PagerProcesses.ChildrenOf(Environment.ProcessId);

    private static string OpenDescriptors() =>
        string.Join('\n', Directory.GetFiles("/proc/self/fd").Select(fd =>
        {
            try
            {
                return new FileInfo(fd).LinkTarget ?? "";
            }
            catch (IOException)
            {
                return "";
            }
        }));

    /// <summary>
    /// How many mappings of this process are of region <paramref name="name"/>'s memory file. Counted by the file's name,
    /// not by address: once a mapping is gone, the runtime may map something else at its address.
    /// </summary>
    private static int MappingsOf(string name) =>
        File.ReadLines("/proc/self/maps").Count(line => line.Contains($"/memfd:orleans-dsm:{name} ", StringComparison.Ordinal));

    /// <summary>The resident kilobytes of the mapping that starts at <paramref name="start"/>, from /proc/self/smaps.</summary>
    private static long ResidentKilobytes(nint start)
    {
        using var lines = File.ReadLines("/proc/self/smaps").GetEnumerator();
        while (lines.MoveNext())
        {
            if (!lines.Current.StartsWith($"{start:x}-", StringComparison.Ordinal)) continue;
            while (lines.MoveNext())
                if (lines.Current.StartsWith("Rss:", StringComparison.Ordinal))
                    return long.Parse(lines.Current.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }
        throw new InvalidOperationException($"No mapping starts at {start:x}.");
    }
}
