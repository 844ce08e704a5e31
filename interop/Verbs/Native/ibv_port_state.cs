namespace PdRdma.Interop.Verbs.Native;

public enum ibv_port_state : int
{
    IBV_PORT_NOP = 0,
    IBV_PORT_DOWN,
    IBV_PORT_INIT,
    IBV_PORT_ARMED,
    IBV_PORT_ACTIVE,
    IBV_PORT_ACTIVE_DEFER,
}
