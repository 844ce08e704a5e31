namespace PdRdma.Interop.Verbs.Native;

[Flags]
public enum ibv_wc_flags : uint
{
    IBV_WC_GRH = 1 << 0,
    IBV_WC_WITH_IMM = 1 << 1,
    IBV_WC_IP_CSUM_OK = 1 << 2,
    IBV_WC_WITH_INV = 1 << 3,
}
