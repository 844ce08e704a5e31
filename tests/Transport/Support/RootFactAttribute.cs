namespace PdRdma.Tests.Transport.Support;

/// <summary>A fact that needs root and iproute2 (network namespaces); skipped with the reason elsewhere.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!OperatingSystem.IsLinux()) Skip = "needs Linux network namespaces";
        else if (Environment.UserName != "root" && !IsUidZero()) Skip = "needs root (ip netns, veth); CI runs as root";
        else if (!File.Exists("/usr/sbin/ip") && !File.Exists("/sbin/ip") && !File.Exists("/usr/bin/ip")) Skip = "needs iproute2 (`ip`): run scripts/setup.sh";
    }

    private static bool IsUidZero()
    {
        try { return File.ReadLines("/proc/self/status").Any(l => l.StartsWith("Uid:", StringComparison.Ordinal) && l.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1] == "0"); }
        catch (IOException) { return false; }
    }
}
