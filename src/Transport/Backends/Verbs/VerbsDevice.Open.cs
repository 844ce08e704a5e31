using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PdRdma.Interop.Verbs;
using PdRdma.Interop.Verbs.Handles;
using PdRdma.Interop.Verbs.Native;
using PdRdma.Transport.Backends.Verbs.Internal;

namespace PdRdma.Transport.Backends.Verbs;

public sealed partial class VerbsDevice
{
    /// <summary>
    /// Opens the configured device (or the first with an active port and a RoCE v2 GID).
    /// </summary>
    /// <exception cref="TransferException">
    /// DeviceUnavailable when libibverbs, the device, an active port or a usable GID is missing; the
    /// message names what is missing and how to fix it.
    /// </exception>
    public static VerbsDevice Open(VerbsOptions? options = null, ILogger? logger = null)
    {
        options ??= new VerbsOptions();
        logger ??= NullLogger.Instance;
        IReadOnlyList<string> names;
        try
        {
            names = Ibv.GetDeviceNames();
        }
        catch (DllNotFoundException)
        {
            throw VerbsErrors.DeviceUnavailable($"{Ibv.Library} is not installed: apt-get install libibverbs1 ibverbs-providers (rdma-core)");
        }

        if (names.Count == 0) throw VerbsErrors.DeviceUnavailable($"no RDMA device found: {DescribeMissingDevice()}; {VerbsErrors.SoftRoceHint}");
        if (options.DeviceName is { } wanted && !names.Contains(wanted))
            throw VerbsErrors.DeviceUnavailable($"RDMA device '{wanted}' not found; present: {string.Join(", ", names)}");

        var problems = new List<string>();
        foreach (var name in options.DeviceName is null ? names : [options.DeviceName])
        {
            var device = TryOpen(name, options, logger, problems);
            if (device is not null) return device;
        }
        throw VerbsErrors.DeviceUnavailable(string.Join("; ", problems));
    }

    private static VerbsDevice? TryOpen(string name, VerbsOptions options, ILogger logger, List<string> problems)
    {
        var context = Ibv.OpenDevice(name);
        if (context.IsInvalid)
        {
            int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            problems.Add($"ibv_open_device({name}) failed: {VerbsErrors.Errno(errno)}" + (errno == 13 ? " (no permission on /dev/infiniband/uverbs*)" : ""));
            return null;
        }

        var owned = new List<IDisposable> { context };
        try
        {
            int rc = Ibv.QueryPort(context, options.Port, out var port);
            if (rc != 0) { problems.Add($"ibv_query_port({name}, {options.Port}) failed: {VerbsErrors.Errno(rc)}"); return Release(owned); }
            if (port.state != ibv_port_state.IBV_PORT_ACTIVE)
            {
                problems.Add($"port {options.Port} of {name} is {port.state}, not active: bring its network interface up (`ip link set <netdev> up`) and check the cable/link");
                return Release(owned);
            }

            (int Index, byte[] Gid)? gid;
            if (options.GidIndex is { } fixedIndex)
            {
                rc = Ibv.QueryGid(context, options.Port, fixedIndex, out var raw);
                gid = rc == 0 ? (fixedIndex, GidSelector.ToBytes(raw)) : null;
            }
            else gid = GidSelector.Select(context, options.Port, port.gid_tbl_len);
            if (gid is null)
            {
                problems.Add($"no RoCE v2 GID on {name} port {options.Port}: give its network interface an IP address (`ip addr add <addr>/<len> dev <netdev>`)");
                return Release(owned);
            }

            var pd = Ibv.AllocPd(context);
            owned.Add(pd);
            if (pd.IsInvalid) throw VerbsErrors.Native("ibv_alloc_pd", name, System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
            var channel = Ibv.CreateCompChannel(context);
            owned.Add(channel);
            if (channel.IsInvalid) throw VerbsErrors.Native("ibv_create_comp_channel", name, System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
            var cq = Ibv.CreateCq(context, CompletionQueueEntries, channel, 0);
            owned.Add(cq);
            if (cq.IsInvalid) throw VerbsErrors.Native($"ibv_create_cq({CompletionQueueEntries})", name, System.Runtime.InteropServices.Marshal.GetLastPInvokeError());

            var device = new VerbsDevice(options, name, context, pd, channel, cq, port, gid.Value.Index, gid.Value.Gid, logger);
            VerbsLog.DeviceOpened(logger, name, options.Port, gid.Value.Index, GidSelector.Format(gid.Value.Gid), device.MtuBytes);
            device.ProbeMemoryWindows();
            return device;
        }
        catch
        {
            Release(owned);
            throw;
        }
    }

    private static VerbsDevice? Release(List<IDisposable> owned)
    {
        for (int i = owned.Count - 1; i >= 0; i--) owned[i].Dispose();
        return null;
    }

    /// <summary>Why the device list is empty, from what the kernel shows.</summary>
    private static string DescribeMissingDevice()
    {
        if (Directory.Exists("/sys/module/rdma_rxe")) return "rdma_rxe is loaded but no Soft-RoCE link exists";
        string release = File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : "";
        string dep = $"/lib/modules/{release}/modules.dep";
        if (File.Exists(dep) && File.ReadLines(dep).Any(l => l.Contains("/rdma_rxe.ko", StringComparison.Ordinal)))
            return "no RDMA NIC and the rdma_rxe module is not loaded";
        return $"no RDMA NIC, and this kernel ({release}) has no rdma_rxe module";
    }
}
