namespace PdRdma.Transport;

/// <summary>Identifies this host (and boot): two agents with the same value can share memory files.</summary>
public static class HostIdentity
{
    private static readonly Lazy<string> Value = new(Read);

    public static string Current => Value.Value;

    private static string Read()
    {
        var machine = ReadTrimmed("/etc/machine-id") ?? ReadTrimmed("/var/lib/dbus/machine-id") ?? Environment.MachineName;
        var boot = ReadTrimmed("/proc/sys/kernel/random/boot_id") ?? "noboot";
        return $"{machine}/{boot}";
    }

    private static string? ReadTrimmed(string path)
    {
        try { return File.Exists(path) ? File.ReadAllText(path).Trim() is { Length: > 0 } s ? s : null : null; }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
