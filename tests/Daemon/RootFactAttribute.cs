namespace PdRdma.Tests.Daemon;

/// <summary>A fact that needs root (network namespaces, other users, chown); skipped with the reason elsewhere.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (Environment.UserName != "root") Skip = "needs root (network namespaces / switching users); run the suite as root, as CI does";
    }
}
