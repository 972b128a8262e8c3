using System.Runtime.InteropServices;

namespace OrleansDsm.Mapping;

/// <summary>
/// The Linux calls a mapped region needs: a shared memory file (<c>memfd</c>) mapped into the process, and a
/// <c>userfaultfd</c> registered on the mapping. Layouts and numbers are those of the kernel's x86-64 and arm64 ABI
/// (<c>linux/userfaultfd.h</c>); every call reports failure as -1 with <c>errno</c>.
/// </summary>
internal static unsafe partial class LinuxMemory
{
    public const int ProtRead = 1, ProtWrite = 2;
    public const int MapShared = 1, MapNoReserve = 0x4000;
    public const int FallocKeepSize = 1, FallocPunchHole = 2;
    public const int FdGetFlags = 1, FdSetFlags = 2, FdCloseOnExec = 1, SetStatusFlags = 4, NonBlocking = 0x800;
    public const uint MemfdCloseOnExec = 1;

    public const ulong UffdApi = 0xAA;
    public const ulong FeaturePagefaultFlagWp = 1 << 0, FeatureMissingShmem = 1 << 5, FeatureWpHugetlbfsShmem = 1 << 12;
    public const ulong RegisterModeMissing = 1, RegisterModeWp = 2;
    public const ulong CopyModeWp = 2;
    public const ulong WriteProtectModeWp = 1;
    public const byte EventPagefault = 0x12;
    public const ulong PagefaultFlagWrite = 1, PagefaultFlagWp = 2;

    // _IOWR/_IOR(0xAA, nr, size) as the kernel encodes them.
    public const ulong IoctlApi = 0xc018aa3f, IoctlRegister = 0xc020aa00, IoctlWake = 0x8010aa02, IoctlCopy = 0xc028aa03, IoctlWriteProtect = 0xc018aa06;

    [StructLayout(LayoutKind.Sequential)]
    public struct UffdioApi
    {
        public ulong Api, Features, Ioctls;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct UffdioRange
    {
        public ulong Start, Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct UffdioRegister
    {
        public UffdioRange Range;
        public ulong Mode, Ioctls;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct UffdioCopy
    {
        public ulong Destination, Source, Length, Mode;
        public long Copied;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct UffdioWriteProtect
    {
        public UffdioRange Range;
        public ulong Mode;
    }

    /// <summary>A <c>struct uffd_msg</c>, of which only page faults are read.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 32)]
    public struct UffdMessage
    {
        [FieldOffset(0)] public byte Event;
        [FieldOffset(8)] public ulong Flags;
        [FieldOffset(16)] public ulong Address;
    }

    /// <summary>The number of the <c>userfaultfd</c> system call, which libc does not wrap everywhere.</summary>
    public static long UserfaultfdSyscall => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 323,
        Architecture.Arm64 => 282,
        var other => throw new PlatformNotSupportedException($"Mapped regions know the userfaultfd system call of x64 and arm64 Linux, not of {other}."),
    };

    [LibraryImport("libc", SetLastError = true)]
    public static partial long syscall(long number, long argument);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int memfd_create(string name, uint flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int ftruncate(int fd, long length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int munmap(nint address, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fallocate(int fd, int mode, long offset, long length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fcntl(int fd, int command, int argument);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, void* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int ioctl(int fd, ulong request, void* argument);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int kill(int pid, int signal);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int poll(PollDescriptor* descriptors, nuint count, int timeoutMilliseconds);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int prctl(int option, nuint argument2, nuint argument3, nuint argument4, nuint argument5);

    /// <summary>Yama's <c>PR_SET_PTRACER</c>: lets one process (the pager) take this process's descriptors.</summary>
    public const int PrSetPtracer = 0x59616d61;

    // pidfd_open and pidfd_getfd have the same numbers on every architecture.
    public const long PidfdOpenSyscall = 434, PidfdGetfdSyscall = 438;

    public const short PollIn = 1, PollError = 8, PollHangUp = 16;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollDescriptor
    {
        public int Fd;
        public short Events, ReturnedEvents;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial long syscall(long number, long argument1, long argument2, long argument3);

    /// <summary>The last call's <c>errno</c> as a sentence, for error messages.</summary>
    public static string LastError(string call)
    {
        var errno = Marshal.GetLastPInvokeError();
        return $"{call} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
    }

    /// <summary>Throws <see cref="IOException"/> naming <paramref name="call"/> and errno when <paramref name="result"/> is -1.</summary>
    public static long Check(long result, string call) => result == -1 ? throw new IOException(LastError(call)) : result;
}
