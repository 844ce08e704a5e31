namespace PdRdma.Interop.Verbs.Native;

public enum ibv_gid_type : uint
{
    IBV_GID_TYPE_IB = 0,
    IBV_GID_TYPE_ROCE_V1,
    IBV_GID_TYPE_ROCE_V2,
}
