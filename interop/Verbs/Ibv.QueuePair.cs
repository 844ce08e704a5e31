using System.Runtime.InteropServices;
using PdRdma.Interop.Verbs.Handles;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Interop.Verbs;

public static unsafe partial class Ibv
{
    [LibraryImport(Library, SetLastError = true)]
    private static partial nint ibv_create_qp(IbvPdHandle pd, ibv_qp_init_attr* qp_init_attr);

    [LibraryImport(Library)]
    private static partial int ibv_modify_qp(IbvQpHandle qp, ibv_qp_attr* attr, int attr_mask);

    [LibraryImport(Library)]
    private static partial int ibv_query_qp(IbvQpHandle qp, ibv_qp_attr* attr, int attr_mask, ibv_qp_init_attr* init_attr);

    [LibraryImport(Library)]
    internal static partial int ibv_destroy_qp(nint qp);

    /// <summary>Creates a queue pair; on return <paramref name="capabilities"/> holds what the provider granted.</summary>
    public static IbvQpHandle CreateQp(IbvPdHandle pd, IbvCqHandle sendCq, IbvCqHandle recvCq, ibv_qp_type type,
        ref ibv_qp_cap capabilities, bool signalAll)
    {
        var init = new ibv_qp_init_attr
        {
            send_cq = sendCq.DangerousGetHandle(),
            recv_cq = recvCq.DangerousGetHandle(),
            cap = capabilities,
            qp_type = type,
            sq_sig_all = signalAll ? 1 : 0,
        };
        var qp = new IbvQpHandle();
        qp.Adopt(ibv_create_qp(pd, &init), pd, sendCq, recvCq);
        capabilities = init.cap;
        return qp;
    }

    /// <summary>Moves the QP through a state transition; returns 0 or an errno value.</summary>
    public static int ModifyQp(IbvQpHandle qp, in ibv_qp_attr attr, ibv_qp_attr_mask mask)
    {
        fixed (ibv_qp_attr* p = &attr) return ibv_modify_qp(qp, p, (int)mask);
    }

    public static int QueryQp(IbvQpHandle qp, ibv_qp_attr_mask mask, out ibv_qp_attr attr, out ibv_qp_init_attr init)
    {
        attr = default;
        init = default;
        fixed (ibv_qp_attr* a = &attr)
        fixed (ibv_qp_init_attr* i = &init)
            return ibv_query_qp(qp, a, (int)mask, i);
    }

    /// <summary>
    /// ibv_post_send (inline in verbs.h: a call through the context's ops table). The chain at
    /// <paramref name="wr"/> and its scatter lists only need to live for the call. Returns 0 or an errno
    /// value; on failure <paramref name="badWr"/> points at the first request not posted.
    /// </summary>
    public static int PostSend(IbvQpHandle qp, ibv_send_wr* wr, out ibv_send_wr* badWr)
    {
        bool added = false;
        qp.DangerousAddRef(ref added);
        try
        {
            var native = (ibv_qp*)qp.DangerousGetHandle();
            var post = (delegate* unmanaged<ibv_qp*, ibv_send_wr*, ibv_send_wr**, int>)native->context->ops.post_send;
            ibv_send_wr* bad = null;
            int rc = post(native, wr, &bad);
            badWr = bad;
            return rc;
        }
        finally
        {
            if (added) qp.DangerousRelease();
        }
    }

    /// <summary>ibv_post_recv (inline in verbs.h, through the ops table); same contract as <see cref="PostSend"/>.</summary>
    public static int PostRecv(IbvQpHandle qp, ibv_recv_wr* wr, out ibv_recv_wr* badWr)
    {
        bool added = false;
        qp.DangerousAddRef(ref added);
        try
        {
            var native = (ibv_qp*)qp.DangerousGetHandle();
            var post = (delegate* unmanaged<ibv_qp*, ibv_recv_wr*, ibv_recv_wr**, int>)native->context->ops.post_recv;
            ibv_recv_wr* bad = null;
            int rc = post(native, wr, &bad);
            badWr = bad;
            return rc;
        }
        finally
        {
            if (added) qp.DangerousRelease();
        }
    }
}
