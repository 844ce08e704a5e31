using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace PdRdma.Interop.Libc;

/// <summary>fcntl(F_DUPFD_CLOEXEC): a second descriptor for the same open file (a dma-buf cannot be reopened by path).</summary>
public static partial class Descriptors
{
    private const int FDupfdCloexec = 1030;

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(SafeHandle fd, int command, int argument);

    /// <summary>The duplicate, owned by the caller; null when fcntl fails (errno in Marshal.GetLastPInvokeError).</summary>
    public static SafeFileHandle? Duplicate(SafeHandle fd)
    {
        var copy = Fcntl(fd, FDupfdCloexec, 0);
        return copy < 0 ? null : new SafeFileHandle(copy, ownsHandle: true);
    }
}
