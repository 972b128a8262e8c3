using System.Globalization;
using OrleansDsm.Tests.Processes;

namespace OrleansDsm.Tests.Mapping;

/// <summary>
/// Pages a mapped program writes between every two releases are left writable, so their stores stop faulting: what
/// they change still reaches the cluster at each release, an acquire still drops one another process changed unless
/// this one wrote it since, and a page left alone for eight releases is protected again.
/// </summary>
public sealed class WritablePageTests(SiloProcessFixture fixture) : IClassFixture<SiloProcessFixture>
{
    private const int LongsPerPage = 4096 / sizeof(long);

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
            Assert.Equal(round <= 2 ? 0 : 3, (await mapped.GetStatisticsAsync()).WritablePages);
            Assert.Equal(round == 1 ? 4 : 3, (await mapped.GetStatisticsAsync()).DirtyPages); // found by comparing with twins
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
        Assert.Equal((3L, 0L), ((await mapped.GetStatisticsAsync()).WriteFaults, (await mapped.GetStatisticsAsync()).WritablePages));
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
}
