using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OrleansDsm.Testing;

/// <summary>
/// A throwaway certificate authority for TLS tests and the TLS bench, with what it signs written to a private directory:
/// the files a silo is configured with, and certificates a client presents. Deleted on dispose.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public TestCertificates(string name)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("dsm-tls-").FullName;
        var request = new CertificateRequest($"CN={name}", _key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        Authority = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        AuthorityFile = Path.Combine(Directory, "authority.pem");
        File.WriteAllText(AuthorityFile, Authority.ExportCertificatePem());
    }

    public string Directory { get; }

    /// <summary>The authority's certificate, without its key.</summary>
    public X509Certificate2 Authority { get; }

    /// <summary>The authority's certificate as a PEM file.</summary>
    public string AuthorityFile { get; }

    /// <summary>A certificate this authority signs, for a silo (server and client use) or a client, with its private key.</summary>
    public X509Certificate2 Issue(string name, bool server)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var usages = new OidCollection { new Oid("1.3.6.1.5.5.7.3.2") };   // client authentication
        if (server)
        {
            usages.Add(new Oid("1.3.6.1.5.5.7.3.1"));   // server authentication
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            names.AddDnsName("localhost");
            request.CertificateExtensions.Add(names.Build());
        }
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        using var issued = request.Create(Authority.SubjectName, X509SignatureGenerator.CreateForECDsa(_key), DateTimeOffset.UtcNow.AddHours(-1),
            DateTimeOffset.UtcNow.AddDays(2), RandomNumberGenerator.GetBytes(8));
        using var withKey = issued.CopyWithPrivateKey(key);
        // Through PKCS#12, as a file-loaded certificate is: TLS on Linux wants a key it can export.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pfx), null);
    }

    /// <summary>Writes <paramref name="certificate"/> with its key as a PKCS#12 file, encrypted with <paramref name="password"/> when given.</summary>
    public string WritePkcs12(X509Certificate2 certificate, string fileName, string? password = null)
    {
        var path = Path.Combine(Directory, fileName);
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, password));
        return path;
    }

    public void Dispose()
    {
        _key.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
