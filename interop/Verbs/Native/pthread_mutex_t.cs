using System.Runtime.InteropServices;

namespace PdRdma.Interop.Verbs.Native;

/// <summary>Opaque glibc mutex embedded in verbs objects; only its size and alignment matter here.</summary>
[CType("pthread_mutex_t")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct pthread_mutex_t
{
    public fixed long __size[5];
}
