using OrleansDsm.Connection;
using OrleansDsm.Pages;

namespace OrleansDsm.Tests.Processes;

/// <summary>
/// A silo accepts message bodies up to <c>Silo:MaxMessageBytes</c>: a larger one, from a client that ignores the
/// limit, is refused before its body is read and changes nothing, and the silo serves on; the DSM's own calls,
/// at the largest page size and the smallest limit allowed, always fit.
/// </summary>
public sealed class OversizedMessageTests
{
    [Fact]
    public async Task An_oversized_request_is_dropped_unread_the_caller_times_out_and_the_silo_serves_on()
    {
        await using var silo = await SiloProcess.StartAsync("--Silo:Dashboard=false", "--Silo:MaxMessageBytes=20000000");
        // A client whose own limit is far above the silo's, as a hostile or misconfigured peer's would be.
        await using var raw = await RawOrleansClient.ConnectAsync(silo.Gateway, messaging =>
        {
            messaging.MaxMessageBodySize = 200_000_000;
            messaging.ResponseTimeout = TimeSpan.FromSeconds(5);
        });
        var grains = raw.Grains;
        await using var client = new DsmClient(grains);
        var array = await client.AllocateAsync<byte>(UniqueNames.For("oversized"), 8192);
        await array.SetAsync(0, 7);

        var huge = new byte[24_000_000];
        Array.Fill(huge, (byte)0xEE);
        await Assert.ThrowsAsync<TimeoutException>(() =>
            grains.GetGrain<IPageBatchGrain>(0).Write(array.Region.Epoch, new RequestId(Guid.NewGuid(), 1), [new PageSpan(array.Region.FirstPage, 0, 10)], [huge]));

        Assert.False(silo.HasExited);
        Assert.Equal(7, await array.GetAsync(0));
        Assert.Equal(0, await array.GetAsync(9));
        await using var other = await DsmClient.ConnectAsync(new DsmClientOptions { Gateways = [silo.Gateway] });
        Assert.Equal(7, await (await other.OpenAsync<byte>(array.Name)).GetAsync(0));
    }

    [Fact]
    public async Task The_largest_dsm_calls_fit_the_smallest_limit_at_the_largest_page_size()
    {
        var limit = OrleansDsm.Silo.Hosting.SiloHostOptions.MinMaxMessageBytes;
        await using var silo = await SiloProcess.StartAsync("--Silo:Dashboard=false", "--Dsm:PageSize=1048576", $"--Silo:MaxMessageBytes={limit}");
        await using var client = await DsmClient.ConnectAsync(new DsmClientOptions { Gateways = [silo.Gateway], CacheBytes = 0 });
        var array = await client.AllocateAsync<byte>(UniqueNames.For("largest-calls"), 40L << 20);
        var source = new byte[40 << 20];
        new Random(11).NextBytes(source);

        await array.WriteAsync(0, source);
        var read = new byte[source.Length];
        await array.ReadAsync(0, read);

        Assert.True(source.AsSpan().SequenceEqual(read));
    }
}
