using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using PdRdma.Transport;

namespace PdRdma.Native;

/// <summary>
/// The C ABI of libpdrdma.so (include/pdrdma.h). Every export catches everything: no exception crosses the boundary; the
/// status says what kind of failure, <c>pdrdma_last_error()</c> says what and why. Calls that wait (connect, batch wait,
/// notification wait, daemon calls) block the calling C thread; the library's own I/O runs on its thread pool.
/// </summary>
internal static unsafe partial class NativeApi
{
    /// <summary>Bumped on any incompatible change of include/pdrdma.h (PDRDMA_ABI_VERSION).</summary>
    public const uint AbiVersion = 1;

    private const int MaxNameBytes = 4096;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static readonly HandleTable<NativeAgent> Agents = new("agent");
    private static readonly HandleTable<NativeRegion> Regions = new("region");
    private static readonly HandleTable<NativeConnection> Connections = new("connection");
    private static readonly HandleTable<NativeBatch> Batches = new("batch");
    private static readonly HandleTable<NativeDaemon> Daemons = new("daemon");

    [UnmanagedCallersOnly(EntryPoint = "pdrdma_abi_version")]
    public static uint AbiVersionExport() => AbiVersion;

    [UnmanagedCallersOnly(EntryPoint = "pdrdma_last_error")]
    public static byte* LastErrorExport() => LastError.Pointer;

    [UnmanagedCallersOnly(EntryPoint = "pdrdma_status_name")]
    public static byte* StatusName(int status) => status switch
    {
        PdrdmaStatus.Ok => Utf8("OK"u8),
        PdrdmaStatus.Pending => Utf8("PENDING"u8),
        PdrdmaStatus.InvalidArgument => Utf8("INVALID_ARGUMENT"u8),
        PdrdmaStatus.BufferTooSmall => Utf8("BUFFER_TOO_SMALL"u8),
        PdrdmaStatus.Internal => Utf8("INTERNAL"u8),
        _ when Enum.IsDefined((TransferErrorCode)status) => CodeNames[status],
        _ => Utf8("UNKNOWN"u8),
    };

    private static readonly byte*[] CodeNames = BuildCodeNames();

    private static byte*[] BuildCodeNames()
    {
        var values = Enum.GetValues<TransferErrorCode>();
        var names = new byte*[values.Max(v => (int)v) + 1];
        foreach (var v in values)
        {
            var bytes = Encoding.UTF8.GetBytes(v.ToString() + "\0");
            var p = (byte*)NativeMemory.Alloc((nuint)bytes.Length);
            bytes.CopyTo(new Span<byte>(p, bytes.Length));
            names[(int)v] = p;
        }
        return names;
    }

    // A u8 literal lives in the image's read-only data: its address is stable for the process's life.
    private static byte* Utf8(ReadOnlySpan<byte> literal) => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(literal));

    /// <summary>Turns any failure into a status and the thread's last-error message.</summary>
    private static int Report(Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } aggregate) e = aggregate.InnerException!;
        LastError.Set(e.Message);
        return e switch
        {
            TransferException t => PdrdmaStatus.Of(t.Code),
            BufferTooSmallException => PdrdmaStatus.BufferTooSmall,
            NativeArgumentException or ArgumentException or JsonException or FormatException or DecoderFallbackException => PdrdmaStatus.InvalidArgument,
            ObjectDisposedException => PdrdmaStatus.InvalidArgument,
            _ => PdrdmaStatus.Internal,
        };
    }

    private static string Str(byte* p, string what)
    {
        if (p == null) throw new NativeArgumentException($"{what} is NULL");
        var span = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(p);
        if (span.Length > MaxNameBytes) throw new NativeArgumentException($"{what} is longer than {MaxNameBytes} bytes");
        return StrictUtf8.GetString(span);
    }

    private static string? OptionalStr(byte* p, string what) => p == null ? null : Str(p, what);

    private static void Out<T>(T* p, string what) where T : unmanaged
    {
        if (p == null) throw new NativeArgumentException($"{what} is NULL");
    }

    /// <summary>Copies <paramref name="value"/> NUL-terminated into the caller's buffer; *length gets its size without the NUL.</summary>
    private static int WriteString(string value, byte* buffer, nuint capacity, nuint* length)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        if (length != null) *length = (nuint)bytes.Length;
        if (buffer == null || capacity < (nuint)bytes.Length + 1)
        {
            throw new BufferTooSmallException($"{bytes.Length + 1} bytes are needed (with the NUL); the buffer holds {capacity}");
        }
        bytes.CopyTo(new Span<byte>(buffer, bytes.Length));
        buffer[bytes.Length] = 0;
        return PdrdmaStatus.Ok;
    }

    /// <summary>Copies at most capacity-1 bytes (cut at a character boundary) and a NUL; for names of bounded length.</summary>
    private static void Truncated(string value, byte* buffer, nuint capacity)
    {
        if (capacity == 0) return;
        var bytes = Encoding.UTF8.GetBytes(value);
        var n = (int)Math.Min((nuint)bytes.Length, capacity - 1);
        while (n > 0 && n < bytes.Length && (bytes[n] & 0xC0) == 0x80) n--;
        bytes.AsSpan(0, n).CopyTo(new Span<byte>(buffer, n));
        buffer[n] = 0;
    }

    private static TimeSpan Timeout(int milliseconds) =>
        milliseconds < 0 ? System.Threading.Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(milliseconds);

    private static long Checked(ulong value, string what) =>
        value <= long.MaxValue ? (long)value : throw new TransferException(TransferErrorCode.OutOfBounds, $"{what} {value} is beyond 2^63");
}
