using System.Net;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using OrleansDsm.Grains.Caching;
using OrleansDsm.Grains.Hosting;
using OrleansDsm.Grains.Serving;

namespace OrleansDsm.Tests.Units;

/// <summary>A silo's table of cache sessions forgets sessions whose leases ended long ago, and their terms keep rising.</summary>
public sealed class SessionLeaseTableTests
{
    [Fact]
    public async Task Sessions_whose_leases_ended_long_ago_are_forgotten_and_come_back_in_a_later_term()
    {
        var options = Options.Create(new AddressSpaceOptions { CacheLease = TimeSpan.FromMilliseconds(20) });
        var table = new SessionLeaseTable(options, new ThisSilo(), new ServingLease(options));
        var gone = Guid.NewGuid();
        var first = table.Renew(gone);
        for (var i = 0; i < 20; i++) table.Renew(Guid.NewGuid());
        Assert.Equal(21, table.Count);

        await Task.Delay(TimeSpan.FromMilliseconds(20 * 13));
        var live = Guid.NewGuid();
        table.Renew(live);

        Assert.Equal(1, table.Count);
        Assert.Equal(TimeSpan.Zero, table.Remaining(gone));
        Assert.True(table.Renew(gone).Term > first.Term, "a forgotten session's next term must follow every term it held");
    }

    [Fact]
    public void A_grant_never_outlasts_the_silos_serving_lease()
    {
        var options = Options.Create(new AddressSpaceOptions { CacheLease = TimeSpan.FromSeconds(5), ServingLease = TimeSpan.FromSeconds(1) });
        var serving = new ServingLease(options);
        var table = new SessionLeaseTable(options, new ThisSilo(), serving);
        Assert.Equal(5000, table.Renew(Guid.NewGuid()).LeaseMilliseconds);

        serving.RequireRenewal();
        serving.Renewed(Environment.TickCount64);

        Assert.InRange(table.Renew(Guid.NewGuid()).LeaseMilliseconds, 1, 1000);
    }

    internal sealed class ThisSilo : ILocalSiloDetails
    {
        public string Name => "test";
        public string ClusterId => "test";
        public string DnsHostName => "localhost";
        public SiloAddress SiloAddress { get; } = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111), 1);
        public SiloAddress GatewayAddress => SiloAddress;
    }
}
