using PdRdma.Interop.Verbs;
using PdRdma.Interop.Verbs.Native;
using PdRdma.Transport.Backends.Verbs.Internal;

namespace PdRdma.Transport.Backends.Verbs;

public sealed partial class VerbsDevice
{
    /// <summary>
    /// Whether grants are enforced in the NIC: the device has type-2 memory windows (IBV_DEVICE_MEM_WINDOW_TYPE_2A or
    /// _2B, max_mw &gt; 0, and a probe ibv_alloc_mw succeeded) and <see cref="VerbsOptions.MemoryWindows"/> is on.
    /// Regions are then registered with IBV_ACCESS_MW_BIND.
    /// </summary>
    public bool MemoryWindows { get; private set; }

    /// <summary>Why <see cref="MemoryWindows"/> is false ("" when true).</summary>
    public string MemoryWindowsReason { get; private set; } = "";

    /// <summary>Checks the device's memory-window support once, at open, and logs the outcome once.</summary>
    private void ProbeMemoryWindows()
    {
        string reason = "";
        if (!Options.MemoryWindows) reason = "turned off (VerbsOptions.MemoryWindows = false)";
        else if (Ibv.QueryDevice(_context, out var attr) is var rc && rc != 0) reason = $"ibv_query_device failed: {VerbsErrors.Errno(rc)}";
        else
        {
            var flags = (ibv_device_cap_flags)attr.device_cap_flags;
            if ((flags & (ibv_device_cap_flags.IBV_DEVICE_MEM_WINDOW_TYPE_2A | ibv_device_cap_flags.IBV_DEVICE_MEM_WINDOW_TYPE_2B)) == 0)
                reason = $"the device reports no type-2 memory windows (device_cap_flags 0x{attr.device_cap_flags:x}: neither IBV_DEVICE_MEM_WINDOW_TYPE_2A nor _2B)";
            else if (attr.max_mw <= 0) reason = $"the device reports max_mw {attr.max_mw}";
            else
            {
                using var probe = Ibv.AllocMw(_pd, ibv_mw_type.IBV_MW_TYPE_2);
                if (probe.IsInvalid) reason = $"ibv_alloc_mw(type 2) failed: {VerbsErrors.Errno(System.Runtime.InteropServices.Marshal.GetLastPInvokeError())}";
            }
        }
        MemoryWindows = reason.Length == 0;
        MemoryWindowsReason = reason;
        if (MemoryWindows) VerbsLog.WindowsEnforced(Logger, Name);
        else VerbsLog.WindowsUnavailable(Logger, Name, reason);
    }
}
