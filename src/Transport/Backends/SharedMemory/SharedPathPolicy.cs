namespace PdRdma.Transport.Backends.SharedMemory;

/// <summary>
/// Which region file a peer names may an initiator open (issue 11 item 3: a target holding the secret advertised a
/// path outside /dev/shm and the initiator wrote 1 MiB into it). Only a regular file under the shared-memory folder,
/// named as <see cref="HostRegion.Create"/> names region files, reached without a symlink or "..": anything else is
/// refused before it is opened. A peer that races a symlink in after the check needs write access to the folder
/// holding the file; /dev/shm is sticky, so only the file's owner can replace it (docs/transport.md, trust model).
/// </summary>
internal static class SharedPathPolicy
{
    public static string? Refusal(string path, string root)
    {
        if (!Path.IsPathFullyQualified(path)) return "is not an absolute path";
        if (path.Split('/').Any(part => part is ".." or ".")) return "contains '.' or '..'";
        var full = Path.GetFullPath(path);
        var prefix = root.TrimEnd('/') + "/";
        if (!full.StartsWith(prefix, StringComparison.Ordinal)) return $"is outside {root}";
        if (!Path.GetFileName(full).StartsWith("pdrdma.", StringComparison.Ordinal)) return "is not named as a region file (pdrdma.*)";
        // every component below the root, the file included, must be what it says: no symlink anywhere
        var at = root.TrimEnd('/');
        foreach (var part in full[prefix.Length..].Split('/'))
        {
            at = at + "/" + part;
            var info = new FileInfo(at);
            if (info.LinkTarget is not null) return $"goes through a symlink ({at})";
        }
        var file = new FileInfo(full);
        if (!file.Exists) return "does not exist (is the peer on this host?)";
        if ((file.Attributes & (FileAttributes.Directory | FileAttributes.Device)) != 0) return "is not a regular file";
        return null;
    }
}
