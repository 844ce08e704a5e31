using System.Runtime.InteropServices;
using PdRdma.Interop.Verbs.Handles;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Interop.Verbs;

public static unsafe partial class Ibv
{
    [LibraryImport(Library, SetLastError = true)]
    private static partial int ibv_get_async_event(IbvContextHandle context, ibv_async_event* evt);

    [LibraryImport(Library)]
    private static partial void ibv_ack_async_event(ibv_async_event* evt);

    [LibraryImport(Library)]
    private static partial byte* ibv_event_type_str(ibv_event_type type);

    [LibraryImport(Library)]
    private static partial byte* ibv_wc_status_str(ibv_wc_status status);

    /// <summary>Blocks until the device reports an async event (QP fatal, port down, ...); 0 or -1 (errno).</summary>
    public static int GetAsyncEvent(IbvContextHandle context, out ibv_async_event evt)
    {
        evt = default;
        fixed (ibv_async_event* p = &evt) return ibv_get_async_event(context, p);
    }

    /// <summary>Every event from <see cref="GetAsyncEvent"/> must be acknowledged before its object is destroyed.</summary>
    public static void AckAsyncEvent(ref ibv_async_event evt)
    {
        fixed (ibv_async_event* p = &evt) ibv_ack_async_event(p);
    }

    public static string EventTypeString(ibv_event_type type) => Marshal.PtrToStringUTF8((nint)ibv_event_type_str(type)) ?? type.ToString();

    public static string WcStatusString(ibv_wc_status status) => Marshal.PtrToStringUTF8((nint)ibv_wc_status_str(status)) ?? status.ToString();
}
