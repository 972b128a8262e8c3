using OrleansDsm.Connection;
using OrleansDsm.Mapping;
using OrleansDsm.Pager;
using OrleansDsm.Tests.Fixtures;

namespace OrleansDsm.Tests.Mapping;

/// <summary>
/// The pager's fault server, driven in this process on a real userfaultfd, for what no fault the kernel sends can be
/// timed to show: a fault whose report the server reads after the client unmapped the region.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class FaultServerTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_store_fault_read_after_the_region_was_unmapped_is_let_go_and_takes_no_twin()
    {
        // A thread interrupted by a signal while its store faulted faults again, so the kernel reports the store
        // twice; the second report can be read after the store went through and the program unmapped the region.
        var region = await fixture.Client.AllocateAsync<byte>(UniqueNames.For("unmapped-store"), 2 * 4096);
        var (pageSize, bytes) = (region.Region.PageSize, region.Region.ByteLength);
        var (start, memoryFd, userfaultFd) = MappedRegion<byte>.MapForFaults($"orleans-dsm:{region.Name}", bytes);
        var settings = new MappingSettings
        {
            Id = 1,
            Epoch = region.Region.Epoch,
            FirstPage = region.Region.FirstPage,
            PageSize = pageSize,
            ByteLength = bytes,
            MappingAddress = (ulong)start,
            UserfaultFd = userfaultFd,
            MemoryFd = memoryFd,
            FaultTimeout = TimeSpan.FromSeconds(5),
            ReadAheadPages = 0,
        };
        var cache = fixture.Client.Cache!;
        using var lifeline = new ClientLifeline(Environment.ProcessId);
        using var server = new FaultServer(settings, userfaultFd, memoryFd, lifeline, fixture.Client.Grains, cache, new RequestIds(cache.Session), null);
        Assert.Equal(0, LinuxMemory.munmap(start, (nuint)bytes));

        server.FirstStore(1);

        // Nothing to let through and nothing dirty: a twin kept for the page would send it at the next release.
        var statistics = server.Statistics().Split(' ');
        Assert.Equal(("ok", "0", "0"), (statistics[0], statistics[2], statistics[4]));
    }
}
