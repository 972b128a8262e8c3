using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using OrleansDsm.Connection;

namespace OrleansDsm.Mapping;

/// <summary>
/// A client's mappings' shared pager: started at the first <see cref="Arrays.SharedArray{T}.MapAsync"/> with the
/// client's own connection settings, kept (and warm) until the client is disposed, which unmaps whatever mappings are
/// left first: touched after the pager stopped, they would fault with no one to serve them and wait for good, where
/// memory no longer mapped ends the process at once.
/// </summary>
internal sealed class Mapper(DsmClientOptions connection) : IAsyncDisposable
{
    private readonly SemaphoreSlim _starting = new(1, 1);
    private PagerProcess? _pager;
    private int _lastId;
    private readonly Dictionary<int, IAsyncDisposable> _live = [];

    /// <summary>A number for a new mapping, unique within this client.</summary>
    public int NextId() => Interlocked.Increment(ref _lastId);

    /// <summary>The pager, started now if this is the client's first mapping.</summary>
    public async Task<PagerProcess> PagerAsync(CancellationToken cancellation)
    {
        await _starting.WaitAsync(cancellation);
        try
        {
            return _pager ??= await PagerProcess.StartAsync(Connection(), cancellation);
        }
        finally
        {
            _starting.Release();
        }
    }

    /// <summary>Counts a mapping as live until it is disposed (<see cref="Forget"/>).</summary>
    public void Track(int id, IAsyncDisposable mapping)
    {
        lock (_live) _live[id] = mapping;
    }

    /// <summary>A mapping disposed: nothing left for the client's disposal to unmap.</summary>
    public void Forget(int id)
    {
        lock (_live) _live.Remove(id);
    }

    public async ValueTask DisposeAsync()
    {
        List<IAsyncDisposable> left;
        lock (_live) left = [.. _live.Values];
        foreach (var mapping in left) await mapping.DisposeAsync();
        if (_pager is not null) await _pager.DisposeAsync();
        _starting.Dispose();
    }

    private PagerConnection Connection()
    {
        var password = connection.TlsCertificate is null ? null : Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        return new PagerConnection
        {
            Gateways = [.. connection.Gateways],
            MembershipConnectionString = connection.MembershipConnectionString,
            ClusterId = connection.ClusterId,
            ServiceId = connection.ServiceId,
            TlsAuthority = connection.TlsAuthority?.Export(X509ContentType.Cert),
            TlsCertificate = connection.TlsCertificate?.Export(X509ContentType.Pkcs12, password),
            TlsCertificatePassword = password,
            ClientProcessId = Environment.ProcessId,
        };
    }
}
