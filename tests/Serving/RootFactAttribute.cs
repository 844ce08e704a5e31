namespace PdRdma.Tests.Serving;

/// <summary>A fact that needs root (network namespaces); skipped with the reason elsewhere.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (Environment.UserName != "root") Skip = "needs root (network namespaces); run the suite as root, as CI does";
    }
}
