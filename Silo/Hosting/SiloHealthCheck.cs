using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace OrleansDsm.Silo.Hosting;

/// <summary>
/// Healthy while this silo is an active member of its cluster; unhealthy while it joins, drains or has been declared
/// dead. What <c>/health</c> reports, for systemd, load balancers and deploy scripts.
/// </summary>
internal sealed class SiloHealthCheck(IClusterMembershipService membership, ILocalSiloDetails silo) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress);
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy($"silo {silo.SiloAddress} is active")
            : HealthCheckResult.Unhealthy($"silo {silo.SiloAddress} is {status}"));
    }
}
