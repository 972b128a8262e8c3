using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using OrleansDsm.Connection;

namespace OrleansDsm.Mapping;

/// <summary>
/// A client's mappings' shared pager: started at the first <see cref="Arrays.SharedArray{T}.MapAsync"/> with the
/// client's own connection settings, kept (and warm) until the client is disposed.
/// </summary>
internal sealed class Mapper(DsmClientOptions connection) : IAsyncDisposable
{
    private readonly SemaphoreSlim _starting = new(1, 1);
    private PagerProcess? _pager;
    private int _lastId;

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

    public async ValueTask DisposeAsync()
    {
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
