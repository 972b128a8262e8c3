using OrleansDsm.Mapping;

namespace OrleansDsm.Pager;

/// <summary>
/// Copies of the client's descriptors, taken with <c>pidfd_getfd</c> (Linux 5.6): a pager started before a mapping
/// cannot inherit its descriptors, and Yama allows the taking because the client named the pager its tracer.
/// </summary>
internal sealed class ClientDescriptors : IDisposable
{
    private readonly int _pidfd;

    public ClientDescriptors(int clientProcessId) =>
        _pidfd = (int)LinuxMemory.Check(LinuxMemory.syscall(LinuxMemory.PidfdOpenSyscall, clientProcessId, 0, 0), "pidfd_open of the client");

    /// <summary>This process's own copy of the client's descriptor <paramref name="clientFd"/>.</summary>
    /// <exception cref="IOException">It cannot be taken; the message names the errno.</exception>
    public int Take(int clientFd) => (int)LinuxMemory.Check(LinuxMemory.syscall(LinuxMemory.PidfdGetfdSyscall, _pidfd, clientFd, 0), "pidfd_getfd");

    public void Dispose() => LinuxMemory.close(_pidfd);
}
