using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using OrleansDsm.Grains.Serving;

namespace OrleansDsm.Silo.Storage;

/// <summary>
/// Renews this silo's <see cref="ServingLease"/> four times per lease by reading its own row in the membership table:
/// the lease is renewed only if the row is there and does not say Dead. A silo cut off from PostgreSQL, or declared
/// dead by the others (which it may not have noticed yet), therefore stops serving pages within one lease. Each read
/// gets its own short deadline, so a hung connection cannot keep an old answer alive.
/// </summary>
internal sealed partial class PostgreSqlServingLeaseRenewer : BackgroundService
{
    private const int DeadStatus = (int)SiloStatus.Dead;

    private readonly string _connectionString;
    private readonly ServingLease _lease;
    private readonly ILocalSiloDetails _silo;
    private readonly string _clusterId;
    private readonly ILogger<PostgreSqlServingLeaseRenewer> _log;

    /// <summary>Made when the host starts, before the silo: from here on, pages serve only under a renewed lease.</summary>
    public PostgreSqlServingLeaseRenewer(string connectionString, ServingLease lease, ILocalSiloDetails silo, IOptions<ClusterOptions> cluster,
        ILogger<PostgreSqlServingLeaseRenewer> log)
    {
        (_connectionString, _lease, _silo, _clusterId, _log) = (connectionString, lease, silo, cluster.Value.ClusterId, log);
        lease.RequireRenewal();
    }

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        // A pool of its own, so page writes filling the shared pool cannot starve the renewals. A link that is down
        // answers nothing, not even an error: a read past its deadline breaks its connection at once (no waiting on a
        // cancel request), and connecting gives up after a second.
        await using var source = new NpgsqlDataSourceBuilder(_connectionString)
        {
            ConnectionStringBuilder = { MaxPoolSize = 4, ApplicationName = "dsm-serving-lease", CancellationTimeout = -1, Timeout = 1 },
        }.Build();
        var period = _lease.Length / 4;
        var held = false;
        while (!stopping.IsCancellationRequested)
        {
            var sentAt = Environment.TickCount64;
            var confirmed = await ConfirmMembershipAsync(source, stopping);
            if (confirmed) _lease.Renewed(sentAt);
            if (confirmed != held) LogChange(confirmed);
            held = confirmed;
            var left = period - TimeSpan.FromMilliseconds(Environment.TickCount64 - sentAt);
            if (left > TimeSpan.Zero) await Task.Delay(left, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task<bool> ConfirmMembershipAsync(NpgsqlDataSource source, CancellationToken stopping)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        deadline.CancelAfter(_lease.Length / 2);
        try
        {
            await using var command = source.CreateCommand(
                "SELECT status FROM dsm_membership WHERE deployment_id = $1 AND address = $2 AND port = $3 AND generation = $4");
            command.Parameters.Add(new NpgsqlParameter { Value = _clusterId });
            command.Parameters.Add(new NpgsqlParameter { Value = _silo.SiloAddress.Endpoint.Address.ToString() });
            command.Parameters.Add(new NpgsqlParameter { Value = _silo.SiloAddress.Endpoint.Port });
            command.Parameters.Add(new NpgsqlParameter { Value = _silo.SiloAddress.Generation });
            // WaitAsync as well: the loop must go on, and log, even if the driver does not honour the deadline.
            return await command.ExecuteScalarAsync(deadline.Token).WaitAsync(deadline.Token) is int status && status != DeadStatus;
        }
        catch (Exception error) when (error is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            return false;
        }
    }

    private void LogChange(bool held)
    {
        if (held) LogHeld();
        else LogLapsing(_lease.Length);
    }

    [LoggerMessage(LogLevel.Information, "Serving lease held: the membership table counts this silo, so it serves pages")]
    private partial void LogHeld();

    [LoggerMessage(LogLevel.Warning, "Serving lease not renewed (membership table unreachable, or this silo declared dead): it stops serving pages within {Lease}")]
    private partial void LogLapsing(TimeSpan lease);
}
