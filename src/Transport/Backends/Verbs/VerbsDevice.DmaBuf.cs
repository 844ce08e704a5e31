using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using PdRdma.Interop.Verbs;
using PdRdma.Interop.Verbs.Native;
using PdRdma.Transport.Backends.Verbs.Internal;

namespace PdRdma.Transport.Backends.Verbs;

public sealed partial class VerbsDevice
{
    /// <summary>
    /// Registers a whole device region through its dma-buf (<c>ibv_reg_dmabuf_mr</c>, iova = the region's address, so
    /// peers address it as they address host windows). Fails with <see cref="TransferErrorCode.DeviceUnavailable"/>
    /// naming the errno when the driver or the provider refuses (Soft-RoCE: not supported).
    /// </summary>
    public VerbsRegistration RegisterDmaBuf(IDeviceMemory region, string? id = null)
    {
        ArgumentNullException.ThrowIfNull(region);
        using var fd = region.ExportDmaBuf();
        var mr = Ibv.RegDmabufMr(_pd, 0, (nuint)region.Length, (ulong)region.Address, (int)fd.DangerousGetHandle(),
            RegionAccess);
        if (mr.IsInvalid)
        {
            int errno = Marshal.GetLastPInvokeError();
            mr.Dispose();
            throw VerbsErrors.Native($"ibv_reg_dmabuf_mr of region {region.Id} ({region.Length} bytes)", Name, errno);
        }
        return new VerbsRegistration(id ?? region.Id, region.Address, region.Length, mr) { IsDmaBuf = true };
    }

    /// <summary>
    /// Makes a device region reachable by this NIC: through its dma-buf when the device, driver and provider accept it,
    /// else (or when <paramref name="forceStaged"/>) through a registered host bounce buffer of the same size. The
    /// choice and the reason are logged and kept in the returned window.
    /// </summary>
    public VerbsDeviceWindow RegisterDeviceMemory(IDeviceMemory region, bool forceStaged = false, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(region);
        string reason;
        if (forceStaged)
        {
            reason = "host staging forced";
        }
        else
        {
            try
            {
                var direct = RegisterDmaBuf(region);
                VerbsDeviceMemoryLog.DmaBufRegistered(logger ?? Logger, region.Id, region.Length, Name);
                return new VerbsDeviceWindow(region, VerbsMemoryPath.DmaBuf, direct, null, null);
            }
            catch (TransferException ex)
            {
                reason = ex.Detail;
            }
        }
        var staging = HostStaging.Create(region);
        try
        {
            var registration = Register(staging.Host, 0, region.Length, region.Id);
            VerbsDeviceMemoryLog.HostStaged(logger ?? Logger, region.Id, region.Length, Name, reason);
            return new VerbsDeviceWindow(region, VerbsMemoryPath.HostStaged, registration, staging, reason);
        }
        catch
        {
            staging.Dispose();
            throw;
        }
    }
}
