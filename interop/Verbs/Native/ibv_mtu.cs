namespace PdRdma.Interop.Verbs.Native;

public enum ibv_mtu : int
{
    IBV_MTU_256 = 1,
    IBV_MTU_512,
    IBV_MTU_1024,
    IBV_MTU_2048,
    IBV_MTU_4096,
}
