using System.Runtime.InteropServices;

namespace PdRdma.Interop.Verbs.Native;

/// <summary>The public head of a device context; the data-path verbs are called through <see cref="ops"/>.</summary>
[CType("struct ibv_context")]
[StructLayout(LayoutKind.Sequential)]
public struct ibv_context
{
    public nint device;
    public ibv_context_ops ops;
    public int cmd_fd;
    public int async_fd;
    public int num_comp_vectors;
    public pthread_mutex_t mutex;
    public nint abi_compat;
}
