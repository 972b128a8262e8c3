using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using OrleansDsm.Security;

namespace OrleansDsm.Direct;

/// <summary>
/// How one side of a direct connection does TLS: the certificate it presents, and the peers it admits, by the rules
/// of the cluster's Orleans connections: with an authority, a peer whose certificate the authority signed (host names
/// unchecked, see <see cref="CertificateAuthority"/>); without one, a peer the machine's store trusts under the name it
/// was reached by. A silo with TLS encrypts its channel with its own certificate and authority, and admits clients
/// without a certificate unless its TLS is mutual; a client does TLS when the silo's endpoint says so.
/// </summary>
/// <param name="certificate">What this side presents: a silo's always, a client's when it has one.</param>
/// <param name="authority">The authority peers' certificates must chain to; null for the machine's store.</param>
/// <param name="peerCertificateRequired">Whether a peer without a certificate is refused (always, for a client's peer).</param>
internal sealed class DirectTls(X509Certificate2? certificate, X509Certificate2? authority, bool peerCertificateRequired)
{
    /// <summary>
    /// What tells two sides' rules apart: the certificates' thumbprints and whether a peer must present one. Clients of
    /// one Orleans client share a connection only when theirs are the same.
    /// </summary>
    public string Identity { get; } = $"{certificate?.Thumbprint}/{authority?.Thumbprint}/{peerCertificateRequired}";

    /// <summary>A client's TLS: presenting <paramref name="certificate"/> if given, admitting silos as described above.</summary>
    public static DirectTls ForClient(X509Certificate2? certificate, X509Certificate2? authority) => new(certificate, authority, peerCertificateRequired: true);

    /// <summary>Runs a silo's handshake on <paramref name="stream"/>.</summary>
    public Task AuthenticateAsServerAsync(SslStream stream, CancellationToken cancellation) => stream.AuthenticateAsServerAsync(ServerOptions(), cancellation);

    /// <summary>
    /// Runs a client's handshake on <paramref name="stream"/> with blocking calls, the silo being <paramref name="peer"/>:
    /// for a connection whose socket must never have an asynchronous operation (see <see cref="DirectTransport.BlockingTls"/>).
    /// </summary>
    public void AuthenticateAsClient(SslStream stream, string peer) => stream.AuthenticateAsClient(ClientOptions(peer));

    private SslServerAuthenticationOptions ServerOptions() => new()
    {
        ServerCertificate = certificate,
        ClientCertificateRequired = peerCertificateRequired,
        RemoteCertificateValidationCallback = Admits,
    };

    private SslClientAuthenticationOptions ClientOptions(string peer) => new()
    {
        TargetHost = peer,
        ClientCertificates = certificate is null ? null : [certificate],
        RemoteCertificateValidationCallback = Admits,
    };

    private bool Admits(object sender, X509Certificate? peer, X509Chain? chain, SslPolicyErrors errors)
    {
        if (peer is null) return !peerCertificateRequired;
        using var presented = X509CertificateLoader.LoadCertificate(peer.GetRawCertData());
        return CertificateAuthority.Admits(authority, presented, errors);
    }
}
