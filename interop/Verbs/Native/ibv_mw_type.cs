namespace PdRdma.Interop.Verbs.Native;

public enum ibv_mw_type : int
{
    /// <summary>Bound with ibv_bind_mw, shared by every queue pair of the protection domain.</summary>
    IBV_MW_TYPE_1 = 1,

    /// <summary>Bound with an IBV_WR_BIND_MW work request on one queue pair; only that queue pair's peer can use it.</summary>
    IBV_MW_TYPE_2 = 2,
}
