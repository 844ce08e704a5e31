namespace PdRdma.Interop.Verbs.Native;

public enum ibv_qp_state : int
{
    IBV_QPS_RESET = 0,
    IBV_QPS_INIT,
    IBV_QPS_RTR,
    IBV_QPS_RTS,
    IBV_QPS_SQD,
    IBV_QPS_SQE,
    IBV_QPS_ERR,
    IBV_QPS_UNKNOWN,
}
