using System.Runtime.CompilerServices;
using PdRdma.Interop.Libc;

namespace PdRdma.Transport.Backends.SharedMemory.Internal;

/// <summary>
/// Loads, stores and waits on the channel's shared words. Volatile reads are acquires and volatile writes releases (the
/// data a record or completion describes is visible before the word that publishes it); the Interlocked operations are
/// full fences, which the sleep/wake handshake needs (Dekker: the sleeper sets its flag then re-checks; the poster
/// publishes then reads the flag; one of them sees the other).
/// </summary>
internal static unsafe class SharedWords
{
    /// <summary>How long a side busy-polls a word before it sleeps on the futex, in µs per idle period.</summary>
    public const int SpinMicroseconds = 20;

    /// <summary>
    /// After its spin, how long a caller sleeps on the completion futex itself (the target wakes it) before it leaves the
    /// wait to the poller thread. On a busy machine the target's thread may share the caller's core: sleeping gives it
    /// the core, and the wake-up hands it back without two more thread hops.
    /// </summary>
    public const int CallerSleepMicroseconds = 500;

    public static long Load64(byte* at) => Volatile.Read(ref Unsafe.AsRef<long>(at));

    public static void Store64(byte* at, long value) => Volatile.Write(ref Unsafe.AsRef<long>(at), value);

    public static int Load32(byte* at) => Volatile.Read(ref Unsafe.AsRef<int>(at));

    public static void Store32(byte* at, int value) => Volatile.Write(ref Unsafe.AsRef<int>(at), value);

    public static int Exchange32(byte* at, int value) => Interlocked.Exchange(ref Unsafe.AsRef<int>(at), value);

    /// <summary>Bumps a doorbell and wakes its sleeper if the sleeper's flag is set (one syscall only then).</summary>
    public static void Ring(byte* doorbell, byte* waitingFlag)
    {
        Interlocked.Increment(ref Unsafe.AsRef<int>(doorbell));
        if (Load32(waitingFlag) != 0) Futex.Wake((nint)doorbell, int.MaxValue);
    }

    /// <summary>
    /// Sleeps on <paramref name="doorbell"/> until it moves or <paramref name="timeoutMicroseconds"/> pass, unless
    /// <paramref name="ready"/> turns true once the flag is up. The caller spun before.
    /// </summary>
    public static void Sleep(byte* doorbell, byte* waitingFlag, long timeoutMicroseconds, Func<bool> ready)
    {
        var seen = Load32(doorbell);
        // a count, not a flag: two threads of one side may sleep on the same word (a caller and the poller)
        Interlocked.Increment(ref Unsafe.AsRef<int>(waitingFlag));
        try
        {
            if (ready()) return;
            Futex.Wait((nint)doorbell, seen, timeoutMicroseconds);
        }
        finally
        {
            Interlocked.Decrement(ref Unsafe.AsRef<int>(waitingFlag));
        }
    }
}
