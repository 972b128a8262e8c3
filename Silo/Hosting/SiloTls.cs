using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;
using OrleansDsm.Grains.Hosting;
using OrleansDsm.Security;

namespace OrleansDsm.Silo.Hosting;

/// <summary>
/// The silo's TLS material, loaded from files once at start: its own certificate, the authority that admits peers,
/// and whether clients must present a certificate too (mutual TLS).
/// </summary>
public sealed record SiloTls(X509Certificate2 Certificate, X509Certificate2? Authority, bool Mutual)
{
    /// <summary>The TLS the options ask for, or null for none.</summary>
    /// <exception cref="CryptographicException">A file is not a certificate, the password is wrong, or the key is missing.</exception>
    public static SiloTls? Load(SiloHostOptions host)
    {
        if (host.TlsCertificate is not { } path) return null;
        var password = host.TlsCertificatePasswordFile is { } file ? File.ReadAllText(file).TrimEnd('\r', '\n') : null;
        var certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password);
        if (!certificate.HasPrivateKey)
            throw new CryptographicException($"Silo:TlsCertificate '{path}' holds no private key, so the silo cannot prove it owns the certificate.");
        var authority = host.TlsAuthority is { } authorityPath ? X509CertificateLoader.LoadCertificateFromFile(authorityPath) : null;
        return new SiloTls(certificate, authority, host.TlsMutual);
    }

    /// <summary>How the banner names it.</summary>
    public string Mode => Mutual ? "mutual (clients present a certificate)" : "server";

    /// <summary>
    /// Encrypts every silo and gateway connection, and the direct channel's, admitting peers whose certificates the
    /// authority signed.
    /// </summary>
    public void Apply(ISiloBuilder silo)
    {
        silo.UseTls(Certificate, options =>
        {
            options.RemoteCertificateMode = Mutual ? RemoteCertificateMode.RequireCertificate : RemoteCertificateMode.AllowCertificate;
            options.RemoteCertificateValidation = (peer, _, errors) => CertificateAuthority.Admits(Authority, peer, errors);
        });
        silo.UseDirectChannelTls(Certificate, Authority, Mutual);
    }
}
