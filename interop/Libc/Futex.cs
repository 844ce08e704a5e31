using System.Runtime.InteropServices;

namespace PdRdma.Interop.Libc;

/// <summary>
/// futex(2) on a 32-bit word in a MAP_SHARED mapping: one process sleeps on the word, the other wakes it. The shared
/// (not FUTEX_PRIVATE) operations, so that the kernel keys the wait by the page behind the word and a waiter in another
/// process is found. glibc has no wrapper: the call goes through syscall(2).
/// </summary>
public static unsafe partial class Futex
{
    private const long SysFutex = 202; // x86_64
    private const long SysFutexArm64 = 98;
    private const int FutexWait = 0;
    private const int FutexWake = 1;

    /// <summary>struct timespec, as in &lt;time.h&gt; on 64-bit Linux.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long tv_sec;
        public long tv_nsec;
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, nint address, int operation, int value, Timespec* timeout, nint address2, int value3);

    private static long Number => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? SysFutexArm64 : SysFutex;

    /// <summary>
    /// Sleeps while the word at <paramref name="address"/> holds <paramref name="expected"/>, at most
    /// <paramref name="timeoutMicroseconds"/>. Returns 0 when woken, else the errno: EAGAIN (11) when the word already
    /// differed, ETIMEDOUT (110), EINTR (4). The address must stay mapped for the call.
    /// </summary>
    public static int Wait(nint address, int expected, long timeoutMicroseconds)
    {
        var timeout = new Timespec { tv_sec = timeoutMicroseconds / 1_000_000, tv_nsec = timeoutMicroseconds % 1_000_000 * 1000 };
        var rc = Syscall(Number, address, FutexWait, expected, &timeout, 0, 0);
        return rc == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>Wakes up to <paramref name="count"/> sleepers on the word; returns how many woke, or -errno.</summary>
    public static int Wake(nint address, int count)
    {
        var rc = Syscall(Number, address, FutexWake, count, null, 0, 0);
        return rc >= 0 ? (int)rc : -Marshal.GetLastPInvokeError();
    }
}
