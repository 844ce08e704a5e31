using PdRdma.Interop.Verbs;

namespace PdRdma.Tests.Verbs;

/// <summary>A fact that needs an RDMA device on this host itself (a NIC, or Soft-RoCE); skipped with the reason otherwise.</summary>
public sealed class NativeRdmaFactAttribute : FactAttribute
{
    public NativeRdmaFactAttribute()
    {
        try
        {
            if (Ibv.GetDeviceNames().Count == 0) Skip = "no RDMA device on this host (the Soft-RoCE VM tests cover verbs here)";
        }
        catch (DllNotFoundException)
        {
            Skip = $"{Ibv.Library} is not installed (apt-get install libibverbs1 ibverbs-providers)";
        }
    }
}
