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

    /// <summary>
    /// Whether the user <paramref name="uid"/> (primary group <paramref name="gid"/>) belongs to group
    /// <paramref name="name"/>: as its primary group, or listed as a member in /etc/group (by the name /etc/passwd gives uid).
    /// </summary>
    public static bool IsMember(string name, int uid, int gid)
    {
        if (FindGroupId(name) is not { } groupId) return false;
        if (gid == groupId) return true;
        string? user = null;
        if (File.Exists("/etc/passwd"))
        {
            foreach (var line in File.ReadLines("/etc/passwd"))
            {
                var fields = line.Split(':');
                if (fields.Length >= 4 && int.TryParse(fields[2], out var id) && id == uid)
                {
                    if (int.TryParse(fields[3], out var primary) && primary == groupId) return true;
                    user = fields[0];
                    break;
                }
            }
        }
        if (user is null) return false;
        foreach (var line in File.ReadLines("/etc/group"))
        {
            var fields = line.Split(':');
            if (fields.Length >= 4 && fields[0] == name) return fields[3].Split(',').Contains(user, StringComparer.Ordinal);
        }
        return false;
    }
}
