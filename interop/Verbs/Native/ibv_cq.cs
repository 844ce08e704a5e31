using System.Runtime.InteropServices;

namespace PdRdma.Interop.Verbs.Native;

[CType("struct ibv_cq")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct ibv_cq
{
    public ibv_context* context;
    public nint channel;
    public nint cq_context;
    public uint handle;
    public int cqe;
    public pthread_mutex_t mutex;
    public pthread_cond_t cond;
    public uint comp_events_completed;
    public uint async_events_completed;
}
