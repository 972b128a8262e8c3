using System.Security.Cryptography;
using System.Text;

namespace OrleansDsm.Grains.Regions;

/// <summary>
/// Owner tokens: 256 random bits, given to the allocating caller once. The directory stores only their SHA-256, so
/// its stored state (and a database dump) does not hand out the right to free.
/// </summary>
internal static class OwnerTokens
{
    public static string Create() => "dsm-owner-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    /// <summary>The hash to compare; a missing token hashes to a value no token has.</summary>
    public static byte[] Hash(string? token) => token is null ? new byte[SHA256.HashSizeInBytes] : SHA256.HashData(Encoding.UTF8.GetBytes(token));
}
