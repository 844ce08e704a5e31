using System.Runtime.InteropServices;

namespace PdRdma.Native;

/// <summary><c>pdrdma_kv_push_t</c>: one push of KV blocks through the daemon (all pointers borrowed for the call).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct PdrdmaKvPush
{
    public byte* request_id;
    public byte* source_pool;
    public byte* target_endpoint;
    public byte* target_pool;
    public int* layers;
    public nuint layer_count;
    public int* source_blocks;
    public int* target_blocks;
    public nuint block_count;
    public PdrdmaKvLayout* target_layout;
}
