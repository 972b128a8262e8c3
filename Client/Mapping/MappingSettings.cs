namespace OrleansDsm.Mapping;

/// <summary>
/// One mapping the pager is to serve, sent as JSON after <c>map</c>: the region, where the client mapped it, and the
/// client's descriptor numbers of its memory file and userfaultfd, which the pager takes with <c>pidfd_getfd</c>.
/// </summary>
internal sealed record MappingSettings
{
    public required int Id { get; init; }
    public required long Epoch { get; init; }
    public required long FirstPage { get; init; }
    public required int PageSize { get; init; }
    public required long ByteLength { get; init; }
    public required ulong MappingAddress { get; init; }
    public required int UserfaultFd { get; init; }
    public required int MemoryFd { get; init; }
    public required TimeSpan FaultTimeout { get; init; }
    public required int ReadAheadPages { get; init; }
}
