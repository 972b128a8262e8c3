namespace OrleansDsm.Mapping;

/// <summary>
/// What the pager process is told when it starts, as one line of JSON on its standard input (never the command line:
/// it may carry a TLS key): how to reach the cluster, and which process it serves.
/// </summary>
internal sealed record PagerConnection
{
    public required string[] Gateways { get; init; }
    public string? MembershipConnectionString { get; init; }
    public required string ClusterId { get; init; }
    public required string ServiceId { get; init; }
    public byte[]? TlsAuthority { get; init; }
    public byte[]? TlsCertificate { get; init; }
    public string? TlsCertificatePassword { get; init; }
    public required int ClientProcessId { get; init; }
}
