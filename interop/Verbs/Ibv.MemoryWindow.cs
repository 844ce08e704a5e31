using System.Runtime.InteropServices;
using PdRdma.Interop.Verbs.Handles;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Interop.Verbs;

public static unsafe partial class Ibv
{
    /// <summary>
    /// ibv_alloc_mw (inline in verbs.h: a call through the context's ops table). Invalid handle on failure, with the
    /// errno in <see cref="Marshal.GetLastPInvokeError"/> (EOPNOTSUPP when the provider has no memory windows).
    /// A type-2 window is bound with an IBV_WR_BIND_MW work request (see <see cref="ibv_send_wr.bind_mw"/>).
    /// </summary>
    public static IbvMwHandle AllocMw(IbvPdHandle pd, ibv_mw_type type)
    {
        var mw = new IbvMwHandle();
        bool added = false;
        pd.DangerousAddRef(ref added);
        try
        {
            var native = (ibv_pd*)pd.DangerousGetHandle();
            var alloc = (delegate* unmanaged<ibv_pd*, ibv_mw_type, ibv_mw*>)((ibv_context*)native->context)->ops.alloc_mw;
            if (alloc == null)
            {
                Marshal.SetLastPInvokeError(95); // EOPNOTSUPP, as the inline wrapper sets it
                return mw;
            }
            Marshal.SetLastSystemError(0);
            var result = alloc(native, type);
            Marshal.SetLastPInvokeError(Marshal.GetLastSystemError());
            mw.Adopt((nint)result, pd);
            return mw;
        }
        finally
        {
            if (added) pd.DangerousRelease();
        }
    }

    /// <summary>ibv_dealloc_mw (inline in verbs.h, through the ops table); 0 or an errno value.</summary>
    internal static int DeallocMw(nint mw)
    {
        var native = (ibv_mw*)mw;
        var dealloc = (delegate* unmanaged<ibv_mw*, int>)native->context->ops.dealloc_mw;
        return dealloc(native);
    }

    /// <summary>ibv_inc_rkey: the next key of a window (same index, the low 8 bits incremented) for its next bind.</summary>
    public static uint IncRkey(uint rkey) => (rkey & ~0xffu) | ((rkey + 1) & 0xffu);
}
