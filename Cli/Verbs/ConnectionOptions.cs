using System.CommandLine;
using System.Security.Cryptography.X509Certificates;
using OrleansDsm.Connection;

namespace OrleansDsm.Cli.Verbs;

/// <summary>
/// How every verb reaches the cluster: <c>--gateway HOST:PORT</c> (or several, comma-separated; without it, the
/// <c>DSM_GATEWAY</c> environment variable, then <c>localhost:30000</c>), and for silos run with TLS
/// <c>--tls-authority FILE</c> and <c>--tls-certificate FILE</c> (without them, <c>DSM_TLS_AUTHORITY</c> and
/// <c>DSM_TLS_CERTIFICATE</c>). The certificate's password comes from the <c>DSM_TLS_PASSWORD</c> environment
/// variable, never the command line. An operator of a remote cluster sets the variables once.
/// </summary>
internal static class ConnectionOptions
{
    /// <summary>The environment variable holding the password of the <c>--tls-certificate</c> file.</summary>
    public const string PasswordVariable = "DSM_TLS_PASSWORD";

    /// <summary>The environment variable naming the gateways when <c>--gateway</c> does not: set once for a remote cluster.</summary>
    public const string GatewayVariable = "DSM_GATEWAY";

    public static readonly Option<string> Gateway = new("--gateway")
    {
        Description = $"The silo gateway to connect to, as HOST:PORT; several, separated by commas, are tried in turn. Without it, {GatewayVariable}, else localhost:30000.",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(GatewayVariable) is { Length: > 0 } gateways ? gateways : "localhost:30000",
        Recursive = true,
    };

    /// <summary>Where the gateways came from when not from <c>--gateway</c> itself: a clause for an error about reaching them.</summary>
    public static string? GatewaySource(ParseResult parse) =>
        parse.GetResult(Gateway) is { Implicit: false } || Environment.GetEnvironmentVariable(GatewayVariable) is not { Length: > 0 }
            ? null
            : $"the gateways come from {GatewayVariable}";

    /// <summary>The environment variable naming the authority file when <c>--tls-authority</c> does not.</summary>
    public const string AuthorityVariable = "DSM_TLS_AUTHORITY";

    /// <summary>The environment variable naming the certificate file when <c>--tls-certificate</c> does not.</summary>
    public const string CertificateVariable = "DSM_TLS_CERTIFICATE";

    public static readonly Option<FileInfo?> TlsAuthority = new("--tls-authority")
    {
        Description = $"Connect over TLS, accepting only silos whose certificate this authority (PEM or DER file) signed. Without it, {AuthorityVariable}.",
        DefaultValueFactory = _ => FromEnvironment(AuthorityVariable),
        Recursive = true,
    };

    public static readonly Option<FileInfo?> TlsCertificate = new("--tls-certificate")
    {
        Description = $"This client's certificate with its key (PKCS#12), for silos that require one; its password from {PasswordVariable}. Without it, {CertificateVariable}.",
        DefaultValueFactory = _ => FromEnvironment(CertificateVariable),
        Recursive = true,
    };

    /// <summary>The client options the command line asks for.</summary>
    /// <exception cref="InvalidDataException">A TLS file is missing or is not a certificate; the message names the option.</exception>
    public static DsmClientOptions Read(ParseResult parse) => new()
    {
        Gateways = parse.GetValue(Gateway)!.Split(',', StringSplitOptions.TrimEntries),
        TlsAuthority = Load(parse.GetValue(TlsAuthority), Named(parse, TlsAuthority, AuthorityVariable), file => X509CertificateLoader.LoadCertificateFromFile(file)),
        TlsCertificate = Load(parse.GetValue(TlsCertificate), Named(parse, TlsCertificate, CertificateVariable),
            file => X509CertificateLoader.LoadPkcs12FromFile(file, Environment.GetEnvironmentVariable(PasswordVariable)),
            // Where the password came from, or that it came from nowhere: the tool never asks for one.
            Environment.GetEnvironmentVariable(PasswordVariable) is null ? $"{PasswordVariable}, which holds its password, is not set" : $"its password is taken from {PasswordVariable}"),
    };

    private static FileInfo? FromEnvironment(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } path ? new FileInfo(path) : null;

    /// <summary>What a file's error names: the option, or the environment variable the file came from.</summary>
    private static string Named(ParseResult parse, Option<FileInfo?> option, string variable) =>
        parse.GetResult(option) is { Implicit: false } ? option.Name : variable;

    private static X509Certificate2? Load(FileInfo? file, string option, Func<string, X509Certificate2> load, string? unreadable = null)
    {
        if (file is null) return null;
        try
        {
            return load(file.FullName);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            var why = error is System.Security.Cryptography.CryptographicException && unreadable is not null ? $" ({unreadable})" : "";
            throw new InvalidDataException($"{option} '{file}': {error.Message.TrimEnd('.')}{why}.");
        }
    }
}
