using PdRdma.Hosting;

namespace PdRdma.Tests;

/// <summary>A fact that needs root and iproute2 (network namespaces, other users, chown); skipped with the reason elsewhere.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (HostCapabilities.NamespacesUnavailableReason() is { } why) Skip = $"needs root and iproute2: {why}";
    }
}
