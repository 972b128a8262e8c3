using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace OrleansDsm.Grains.Serving;

/// <summary>
/// Tells the <see cref="ServingLease"/> whenever this silo learns that another silo was declared dead. The first
/// view counts too: a silo that joins just after a death may be handed the dead silo's pages at once.
/// </summary>
internal sealed partial class SiloDeathWatch(IClusterMembershipService membership, ILocalSiloDetails local, ServingLease lease, ILogger<SiloDeathWatch> log)
    : BackgroundService
{
    private readonly HashSet<SiloAddress> _dead = [];

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stopping))
            {
                foreach (var member in snapshot.Members.Values)
                    if (member.Status == SiloStatus.Dead && !member.SiloAddress.Equals(local.SiloAddress) && _dead.Add(member.SiloAddress))
                    {
                        lease.SiloDeclaredDead();
                        LogDeath(member.SiloAddress, lease.Length);
                    }
                // Orleans drops long-dead silos from the table; so does this set.
                _dead.IntersectWith(snapshot.Members.Keys);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(LogLevel.Information, "Silo {Silo} was declared dead: pages activated here in the next {Hold} wait before serving, until its serving lease has surely run out")]
    private partial void LogDeath(SiloAddress silo, TimeSpan hold);
}
