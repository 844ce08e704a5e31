using PdRdma.Interop.Verbs;
using PdRdma.Interop.Verbs.Handles;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Transport.Backends.Verbs.Internal;

/// <summary>The RC queue pair state machine: RESET → INIT → RTR → RTS, and → ERR for teardown.</summary>
internal static class QpTransitions
{
    public static int ToInit(IbvQpHandle qp, byte port)
    {
        var attr = new ibv_qp_attr
        {
            qp_state = ibv_qp_state.IBV_QPS_INIT,
            pkey_index = 0,
            port_num = port,
            qp_access_flags = ibv_access_flags.IBV_ACCESS_LOCAL_WRITE | ibv_access_flags.IBV_ACCESS_REMOTE_WRITE,
        };
        return Ibv.ModifyQp(qp, attr, ibv_qp_attr_mask.IBV_QP_STATE | ibv_qp_attr_mask.IBV_QP_PKEY_INDEX
            | ibv_qp_attr_mask.IBV_QP_PORT | ibv_qp_attr_mask.IBV_QP_ACCESS_FLAGS);
    }

    public static int ToReadyToReceive(IbvQpHandle qp, byte port, int localGidIndex, ibv_mtu mtu, uint remoteQpn, uint remotePsn, ibv_gid remoteGid)
    {
        var attr = new ibv_qp_attr
        {
            qp_state = ibv_qp_state.IBV_QPS_RTR,
            path_mtu = mtu,
            dest_qp_num = remoteQpn,
            rq_psn = remotePsn,
            max_dest_rd_atomic = 1,
            min_rnr_timer = 12,
        };
        attr.ah_attr.is_global = 1;
        attr.ah_attr.port_num = port;
        attr.ah_attr.grh.dgid = remoteGid;
        attr.ah_attr.grh.sgid_index = (byte)localGidIndex;
        attr.ah_attr.grh.hop_limit = 64;
        return Ibv.ModifyQp(qp, attr, ibv_qp_attr_mask.IBV_QP_STATE | ibv_qp_attr_mask.IBV_QP_AV | ibv_qp_attr_mask.IBV_QP_PATH_MTU
            | ibv_qp_attr_mask.IBV_QP_DEST_QPN | ibv_qp_attr_mask.IBV_QP_RQ_PSN | ibv_qp_attr_mask.IBV_QP_MAX_DEST_RD_ATOMIC
            | ibv_qp_attr_mask.IBV_QP_MIN_RNR_TIMER);
    }

    public static int ToReadyToSend(IbvQpHandle qp, uint localPsn, byte timeout, byte retryCount)
    {
        var attr = new ibv_qp_attr
        {
            qp_state = ibv_qp_state.IBV_QPS_RTS,
            sq_psn = localPsn,
            timeout = timeout,
            retry_cnt = retryCount,
            rnr_retry = 7, // 7 = retry for ever: the peer reposts receive slots as it consumes them
            max_rd_atomic = 1,
        };
        return Ibv.ModifyQp(qp, attr, ibv_qp_attr_mask.IBV_QP_STATE | ibv_qp_attr_mask.IBV_QP_SQ_PSN | ibv_qp_attr_mask.IBV_QP_TIMEOUT
            | ibv_qp_attr_mask.IBV_QP_RETRY_CNT | ibv_qp_attr_mask.IBV_QP_RNR_RETRY | ibv_qp_attr_mask.IBV_QP_MAX_QP_RD_ATOMIC);
    }

    public static int ToError(IbvQpHandle qp) =>
        Ibv.ModifyQp(qp, new ibv_qp_attr { qp_state = ibv_qp_state.IBV_QPS_ERR }, ibv_qp_attr_mask.IBV_QP_STATE);
}
