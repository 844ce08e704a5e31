using System.Runtime.InteropServices;

namespace PdRdma.Native;

/// <summary><c>pdrdma_kv_layout_t</c>: shape of a paged KV pool, as <see cref="PdRdma.Transport.KvLayout"/>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PdrdmaKvLayout
{
    public int layers;
    public int kv_heads;
    public int head_dim;
    public int tokens_per_block;
    public int dtype;
    public int blocks;
}
