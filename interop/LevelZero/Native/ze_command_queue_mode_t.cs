namespace PdRdma.Interop.LevelZero.Native;

/// <summary>Command queue execution mode; immediate lists for copies are created synchronous.</summary>
public enum ze_command_queue_mode_t : uint
{
    ZE_COMMAND_QUEUE_MODE_DEFAULT = 0,
    ZE_COMMAND_QUEUE_MODE_SYNCHRONOUS = 1,
    ZE_COMMAND_QUEUE_MODE_ASYNCHRONOUS = 2,
}
