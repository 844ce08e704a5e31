using System.Runtime.InteropServices;

namespace PdRdma.Interop.Verbs.Native;

/// <summary>Opaque glibc condition variable embedded in verbs objects; only its size and alignment matter here.</summary>
[CType("pthread_cond_t")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct pthread_cond_t
{
    public fixed long __size[6];
}
