using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace OrleansDsm.Security;

/// <summary>
/// The private certificate authority a TLS deployment trusts: silos and clients accept a peer's certificate only if
/// it chains to this authority's certificate, not to whatever the machine's store trusts. Host names are not checked,
/// since silos are reached by address; holding a certificate the authority signed is what admits a peer.
/// </summary>
public static class CertificateAuthority
{
    /// <summary>
    /// The rule every TLS connection of the cluster admits a peer's <paramref name="certificate"/> by: signed by
    /// <paramref name="authority"/> when there is one, otherwise trusted by the machine's store under the name it was
    /// reached by (no <paramref name="errors"/>).
    /// </summary>
    public static bool Admits(X509Certificate2? authority, X509Certificate2 certificate, SslPolicyErrors errors) =>
        authority is null ? errors == SslPolicyErrors.None : Vouches(authority, certificate);

    /// <summary>Whether <paramref name="certificate"/> chains to <paramref name="authority"/> and is valid now.</summary>
    public static bool Vouches(X509Certificate2 authority, X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        // A private authority publishes no revocation list.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
