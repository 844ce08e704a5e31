using System.Buffers.Binary;
using PdRdma.Interop.Verbs;
using PdRdma.Interop.Verbs.Handles;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Transport.Backends.Verbs.Internal;

/// <summary>Posts a chain of work requests with one ibv_post_send (one doorbell); only the last one is signalled.</summary>
internal static unsafe class SendPoster
{
    public const int MaxChain = 256;

    /// <returns>0, or the errno of ibv_post_send (then nothing after the first bad request was posted).</returns>
    public static int Post(IbvQpHandle qp, ReadOnlySpan<WorkRequest> requests, ulong wrId)
    {
        if (requests.Length is 0 or > MaxChain) throw new ArgumentOutOfRangeException(nameof(requests));
        ibv_send_wr* wrs = stackalloc ibv_send_wr[requests.Length];
        ibv_sge* sges = stackalloc ibv_sge[requests.Length];
        for (int i = 0; i < requests.Length; i++)
        {
            var r = requests[i];
            wrs[i] = default;
            wrs[i].wr_id = wrId;
            wrs[i].next = i + 1 < requests.Length ? &wrs[i + 1] : null;
            wrs[i].opcode = r.Opcode;
            wrs[i].send_flags = i + 1 == requests.Length ? ibv_send_flags.IBV_SEND_SIGNALED : 0;
            if (r.Opcode == ibv_wr_opcode.IBV_WR_BIND_MW)
            {
                wrs[i].bind_mw.mw = r.Window;
                wrs[i].bind_mw.rkey = r.RemoteKey;
                wrs[i].bind_mw.bind_info = new ibv_mw_bind_info
                {
                    mr = r.BoundRegion, addr = r.LocalAddress, length = r.BindLength, mw_access_flags = (uint)r.BindAccess,
                };
                continue;
            }
            if (r.Length > 0)
            {
                // a zero-length SGE means 2^31 bytes on some devices: an empty message carries no SGE at all
                sges[i] = new ibv_sge { addr = r.LocalAddress, length = r.Length, lkey = r.LocalKey };
                wrs[i].sg_list = &sges[i];
                wrs[i].num_sge = 1;
            }
            if (r.Opcode is ibv_wr_opcode.IBV_WR_RDMA_WRITE_WITH_IMM or ibv_wr_opcode.IBV_WR_SEND_WITH_IMM)
                wrs[i].imm_data = BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(r.Immediate) : r.Immediate;
            wrs[i].wr.rdma.remote_addr = r.RemoteAddress;
            wrs[i].wr.rdma.rkey = r.RemoteKey;
        }
        return Ibv.PostSend(qp, wrs, out _);
    }

    /// <summary>Posts one receive of a registered slot.</summary>
    public static int PostReceive(IbvQpHandle qp, ulong wrId, ulong address, uint length, uint localKey)
    {
        var sge = new ibv_sge { addr = address, length = length, lkey = localKey };
        var wr = new ibv_recv_wr { wr_id = wrId, sg_list = &sge, num_sge = 1 };
        return Ibv.PostRecv(qp, &wr, out _);
    }
}
