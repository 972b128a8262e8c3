namespace OrleansDsm.Mapping;

/// <summary>
/// What the pager process is told when it starts, as one line of JSON on its standard input (never the command line:
/// it may carry a TLS key): how to reach the cluster, which region it serves, and the descriptors it inherited.
/// </summary>
internal sealed record PagerSettings
{
    public required string[] Gateways { get; init; }
    public string? MembershipConnectionString { get; init; }
    public required string ClusterId { get; init; }
    public required string ServiceId { get; init; }
    public byte[]? TlsAuthority { get; init; }
    public byte[]? TlsCertificate { get; init; }
    public string? TlsCertificatePassword { get; init; }
    public required long Epoch { get; init; }
    public required long FirstPage { get; init; }
    public required int PageSize { get; init; }
    public required long ByteLength { get; init; }
    public required ulong MappingAddress { get; init; }
    public required int UserfaultFd { get; init; }
    public required int MemoryFd { get; init; }
    public required int ClientProcessId { get; init; }
    public required TimeSpan FaultTimeout { get; init; }
}
