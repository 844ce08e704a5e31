using PdRdma.Interop.Verbs;

namespace PdRdma.Tests.Verbs;

/// <summary>A fact about hosts without an RDMA device; skipped (saying which devices exist) on a host that has one.</summary>
public sealed class NoRdmaDeviceFactAttribute : FactAttribute
{
    public NoRdmaDeviceFactAttribute()
    {
        try
        {
            var names = Ibv.GetDeviceNames();
            if (names.Count > 0) Skip = $"this host has RDMA devices ({string.Join(", ", names)}); the device tests cover it";
        }
        catch (DllNotFoundException)
        {
            // no libibverbs at all: the backend must report that too
        }
    }
}
