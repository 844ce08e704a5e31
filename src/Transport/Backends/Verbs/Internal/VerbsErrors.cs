using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Transport.Backends.Verbs.Internal;

/// <summary>Native verbs failures turned into typed errors that name the operation, the device or peer, and the fix.</summary>
internal static class VerbsErrors
{
    public const string SoftRoceHint =
        "on a host without an RDMA NIC load Soft-RoCE: `modprobe rdma_rxe && rdma link add rxe0 type rxe netdev <eth>` " +
        "(or run inside the Soft-RoCE VMs: vm/run-rdma-vms.sh)";

    public static TransferException DeviceUnavailable(string message) => new(TransferErrorCode.DeviceUnavailable, message);

    public static TransferException RegistrationFailed(string what, long length, string device, int errno)
    {
        string fix = errno is 12 or 1 // ENOMEM, EPERM: pinning was refused
            ? $"; locked memory is limited to {MemlockLimit()}: raise RLIMIT_MEMLOCK (`ulimit -l unlimited`, or LimitMEMLOCK=infinity in the systemd unit)"
            : "";
        return new TransferException(TransferErrorCode.DeviceUnavailable,
            $"ibv_reg_mr of {what} ({length} bytes) on {device} failed: {Errno(errno)}{fix}");
    }

    public static TransferException Native(string operation, string device, int errno) =>
        new(TransferErrorCode.DeviceUnavailable, $"{operation} on {device} failed: {Errno(errno)}");

    /// <summary>The one place a work-completion status becomes a common error code.</summary>
    public static TransferErrorCode Map(ibv_wc_status status) => status switch
    {
        ibv_wc_status.IBV_WC_REM_ACCESS_ERR or ibv_wc_status.IBV_WC_LOC_PROT_ERR
            or ibv_wc_status.IBV_WC_LOC_ACCESS_ERR or ibv_wc_status.IBV_WC_MW_BIND_ERR => TransferErrorCode.AccessDenied,
        ibv_wc_status.IBV_WC_RETRY_EXC_ERR or ibv_wc_status.IBV_WC_RNR_RETRY_EXC_ERR or ibv_wc_status.IBV_WC_WR_FLUSH_ERR
            or ibv_wc_status.IBV_WC_RESP_TIMEOUT_ERR or ibv_wc_status.IBV_WC_FATAL_ERR or ibv_wc_status.IBV_WC_REM_ABORT_ERR => TransferErrorCode.PeerLost,
        ibv_wc_status.IBV_WC_LOC_LEN_ERR or ibv_wc_status.IBV_WC_REM_INV_REQ_ERR => TransferErrorCode.OutOfBounds,
        _ => TransferErrorCode.Protocol,
    };

    public static string Errno(int errno) => $"{new System.ComponentModel.Win32Exception(errno).Message} (errno {errno})";

    public static string MemlockLimit()
    {
        try
        {
            var line = File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max locked memory", StringComparison.Ordinal));
            return line is null ? "an unknown amount" : string.Join(' ', line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3..5]) + " bytes (soft, hard)";
        }
        catch (IOException)
        {
            return "an unknown amount";
        }
    }
}
