using System.Runtime.InteropServices;
using PdRdma.Interop.Verbs;
using PdRdma.Interop.Verbs.Handles;
using PdRdma.Interop.Verbs.Native;
using PdRdma.Transport.Backends.Verbs.Internal;

namespace PdRdma.Transport.Backends.Verbs;

public sealed partial class VerbsEndpoint
{
    /// <summary>
    /// Target: binds one type-2 memory window per request on this peer's queue pair (IBV_WR_BIND_MW, remote write only,
    /// all binds in one post) and returns them once the device completed the binds. Only this peer can use the keys,
    /// and only inside the windows; dispose the set to invalidate them. With <see cref="VerbsOptions.RegisterEachWindow"/>
    /// each window is bound to its own registration of exactly its bytes (see there why).
    /// </summary>
    /// <exception cref="TransferException">
    /// Unsupported when the device has no type-2 windows (<see cref="VerbsDevice.MemoryWindows"/>); OutOfBounds for a
    /// window outside its registration; DeviceUnavailable when ibv_alloc_mw fails; AccessDenied/PeerLost/Protocol when
    /// the bind's completion fails (the queue pair is then torn down, as for any failed work request).
    /// </exception>
    public async Task<VerbsWindowSet> BindWindowsAsync(IReadOnlyList<VerbsWindowRequest> windows, CancellationToken ct)
    {
        if (!_device.MemoryWindows)
            throw new TransferException(TransferErrorCode.Unsupported, $"{_device.Name} has no type-2 memory windows here: {_device.MemoryWindowsReason}");
        var handles = new IbvMwHandle[windows.Count];
        var own = _device.Options.RegisterEachWindow ? new IbvMrHandle?[windows.Count] : [];
        var bound = new VerbsWindow[windows.Count];
        var requests = new List<WorkRequest>(windows.Count);
        try
        {
            for (int i = 0; i < windows.Count; i++)
            {
                var (registration, offset, length) = windows[i];
                if (offset < 0 || length <= 0 || offset + length > registration.Length)
                    throw new TransferException(TransferErrorCode.OutOfBounds, $"window [{offset}, {offset + length}) is outside registration {registration.RegionId} of {registration.Length} bytes");
                ulong address = (ulong)registration.Address + (ulong)offset;
                nint boundTo = registration.NativeHandle;
                // a dma-buf registration (device memory) cannot be registered again by address: its windows bind to it
                // directly (the NICs that take dma-bufs check window bounds; Soft-RoCE takes no dma-buf)
                if (own.Length > 0 && !registration.IsDmaBuf)
                {
                    // exactly the window's bytes, not remotely writable by itself: the NIC checks a write's bounds
                    // against the registration under the window (Soft-RoCE does not check the window's own)
                    var mr = Ibv.RegMr(_device.ProtectionDomain, (nint)address, (nuint)length, ibv_access_flags.IBV_ACCESS_LOCAL_WRITE | ibv_access_flags.IBV_ACCESS_MW_BIND);
                    own[i] = mr;
                    if (mr.IsInvalid) throw VerbsErrors.RegistrationFailed($"window [{offset}, +{length}) of {registration.RegionId}", length, _device.Name, Marshal.GetLastPInvokeError());
                    boundTo = mr.DangerousGetHandle();
                }
                handles[i] = Ibv.AllocMw(_device.ProtectionDomain, ibv_mw_type.IBV_MW_TYPE_2);
                if (handles[i].IsInvalid) throw VerbsErrors.Native("ibv_alloc_mw(type 2)", _device.Name, Marshal.GetLastPInvokeError());
                uint key = Ibv.IncRkey(handles[i].RemoteKey);
                bound[i] = new VerbsWindow(registration.RegionId, offset, length, key);
                requests.Add(new WorkRequest(ibv_wr_opcode.IBV_WR_BIND_MW, address, 0, 0, 0, key,
                    Window: handles[i].DangerousGetHandle(), BoundRegion: boundTo, BindLength: (ulong)length,
                    BindAccess: ibv_access_flags.IBV_ACCESS_REMOTE_WRITE));
            }
            if (requests.Count > 0) await PostAsync(requests, null, ct).ConfigureAwait(false);
            return new VerbsWindowSet(bound, handles, own);
        }
        catch
        {
            foreach (var handle in handles) handle?.Dispose();
            foreach (var mr in own) mr?.Dispose();
            throw;
        }
    }
}
