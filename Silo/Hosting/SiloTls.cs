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
    /// <exception cref="CryptographicException">
    /// A file is not a certificate, the password is wrong, or the key is missing; the message names the setting and
    /// the file, and for the silo's certificate where its password came from.
    /// </exception>
    public static SiloTls? Load(SiloHostOptions host)
    {
        if (host.TlsCertificate is not { } path) return null;
        var passwordFile = host.TlsCertificatePasswordFile;
        var password = passwordFile is null ? null : File.ReadAllText(passwordFile).TrimEnd('\r', '\n');
        var certificate = Read("Silo:TlsCertificate", path, () => X509CertificateLoader.LoadPkcs12FromFile(path, password), passwordFile is null
            ? "a PKCS#12 file with the silo's key; no Silo:TlsCertificatePasswordFile gives it a password"
            : $"a PKCS#12 file with the silo's key, its password read from Silo:TlsCertificatePasswordFile '{passwordFile}'");
        if (!certificate.HasPrivateKey)
            throw new CryptographicException($"Silo:TlsCertificate '{path}' holds no private key, so the silo cannot prove it owns the certificate.");
        var authority = host.TlsAuthority is { } authorityPath
            ? Read("Silo:TlsAuthority", authorityPath, () => X509CertificateLoader.LoadCertificateFromFile(authorityPath), "a certificate, PEM or DER")
            : null;
        return new SiloTls(certificate, authority, host.TlsMutual);
    }

    /// <summary>Loads one file, naming its setting, the file and what it should be when it cannot be read as that.</summary>
    private static X509Certificate2 Read(string setting, string path, Func<X509Certificate2> load, string expected)
    {
        try
        {
            return load();
        }
        catch (CryptographicException error)
        {
            throw new CryptographicException($"{setting} '{path}' cannot be read ({expected}): {error.Message.TrimEnd('.')}.", error);
        }
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
