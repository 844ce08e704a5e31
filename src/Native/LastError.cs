using System.Runtime.InteropServices;
using System.Text;

namespace PdRdma.Native;

/// <summary>
/// The thread-local last-error message behind <c>pdrdma_last_error()</c>: a NUL-terminated UTF-8 copy owned by the library,
/// valid on the calling thread until its next failing call. Every export clears it on entry.
/// </summary>
internal static unsafe class LastError
{
    [ThreadStatic] private static byte* _message;
    [ThreadStatic] private static nuint _capacity;

    public static byte* Pointer
    {
        get
        {
            if (_message == null) Set("");
            return _message;
        }
    }

    public static void Clear()
    {
        if (_message != null) _message[0] = 0;
    }

    public static void Set(string message)
    {
        var needed = (nuint)Encoding.UTF8.GetMaxByteCount(message.Length) + 1;
        if (_capacity < needed)
        {
            NativeMemory.Free(_message);
            _message = (byte*)NativeMemory.Alloc(needed);
            _capacity = needed;
        }
        var written = Encoding.UTF8.GetBytes(message, new Span<byte>(_message, (int)_capacity - 1));
        _message[written] = 0;
    }
}
