namespace PdRdma.Daemon;

/// <summary>Looks up groups in /etc/group (no NSS: the service group is a local system group).</summary>
public static class UnixGroups
{
    public static int? FindGroupId(string name)
    {
        if (!File.Exists("/etc/group")) return null;
        foreach (var line in File.ReadLines("/etc/group"))
        {
            var fields = line.Split(':');
            if (fields.Length >= 3 && fields[0] == name && int.TryParse(fields[2], out var gid)) return gid;
        }
        return null;
    }
}
