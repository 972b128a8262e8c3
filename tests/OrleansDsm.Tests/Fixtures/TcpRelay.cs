using System.Net;
using System.Net.Sockets;

namespace OrleansDsm.Tests.Fixtures;

/// <summary>
/// Relays TCP connections from a free loopback port to a target, until cut: cutting drops every relayed connection
/// and refuses new ones, as a failed link between two machines would, while both ends keep running.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly List<TcpClient> _open = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _accepting;
    private bool _cut;

    private TcpRelay(string targetHost, int targetPort)
    {
        (_targetHost, _targetPort) = (targetHost, targetPort);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>The loopback port to connect to instead of the target.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public static TcpRelay Start(string targetHost, int targetPort) => new(targetHost, targetPort);

    /// <summary>A relay to the PostgreSQL server of <paramref name="connectionString"/>.</summary>
    public static TcpRelay ToDatabase(string connectionString)
    {
        var database = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        return new(database.Host!, database.Port);
    }

    /// <summary><paramref name="connectionString"/>, going through this relay instead (which listens on loopback).</summary>
    public string Relayed(string connectionString) =>
        new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { Host = "127.0.0.1", Port = Port }.ConnectionString;

    /// <summary>Drops every relayed connection and refuses new ones until <see cref="Mend"/>.</summary>
    public void Cut()
    {
        lock (_open)
        {
            _cut = true;
            foreach (var connection in _open) connection.Dispose();
            _open.Clear();
        }
    }

    /// <summary>Relays new connections again.</summary>
    public void Mend()
    {
        lock (_open) _cut = false;
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await _listener.AcceptTcpClientAsync(_stopping.Token);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            _ = RelayAsync(inbound);
        }
    }

    private async Task RelayAsync(TcpClient inbound)
    {
        var outbound = new TcpClient();
        lock (_open)
        {
            if (_cut)
            {
                inbound.Dispose();
                return;
            }
            _open.Add(inbound);
            _open.Add(outbound);
        }
        try
        {
            await outbound.ConnectAsync(_targetHost, _targetPort, _stopping.Token);
            await Task.WhenAny(
                inbound.GetStream().CopyToAsync(outbound.GetStream(), _stopping.Token),
                outbound.GetStream().CopyToAsync(inbound.GetStream(), _stopping.Token));
        }
        catch (Exception)
        {
            // A cut or a closed end: both sides are closed below.
        }
        finally
        {
            inbound.Dispose();
            outbound.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        Cut();
        await _accepting;
        _stopping.Dispose();
    }
}
