namespace PdRdma.Hosting;

/// <summary>What this machine lets the project do: network namespaces need root and iproute2.</summary>
public static class HostCapabilities
{
    /// <summary>Whether this process runs as root (uid 0).</summary>
    public static bool IsRoot => OperatingSystem.IsLinux() && Environment.IsPrivilegedProcess;

    /// <summary>iproute2's <c>ip</c>, or null when it is not installed.</summary>
    public static string? Ip => Processes.ExternalTool.Find("ip");

    /// <summary>Why network namespaces cannot be made here, or null when they can.</summary>
    public static string? NamespacesUnavailableReason()
    {
        if (!OperatingSystem.IsLinux()) return "network namespaces need Linux";
        if (!IsRoot) return "network namespaces need root (ip netns, veth); CI runs as root";
        if (Ip is null) return "iproute2's `ip` is not installed: run scripts/setup.sh";
        return null;
    }

    /// <summary>Whether network namespaces can be made here.</summary>
    public static bool CanUseNamespaces => NamespacesUnavailableReason() is null;
}
