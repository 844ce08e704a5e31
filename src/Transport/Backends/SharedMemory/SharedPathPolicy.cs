namespace PdRdma.Transport.Backends.SharedMemory;

/// <summary>
/// Which region file a peer names may an initiator open (issue 11 item 3: a target holding the secret advertised a
/// path outside /dev/shm and the initiator wrote 1 MiB into it). Only a regular file under the shared-memory folder,
/// named as <see cref="HostRegion.Create"/> names region files, reached without a symlink or "..": anything else is
/// refused before it is opened. A peer that races a symlink in after the check needs write access to the folder
/// holding the file; /dev/shm is sticky, so only the file's owner can replace it (docs/transport.md, trust model).
/// The second form is a region a daemon received by descriptor (an engine's memfd, issue 11): the target names it as
/// <c>/proc/PID/fd/N</c>, and it is accepted only when process PID runs as this process's effective user and the
/// descriptor is a memfd or a file in the shared-memory folder. A process of the same user could already
/// read and write this process's memory (ptrace, /proc/PID/mem), so the peer gains nothing it did not have; a process
/// of another user is refused before the open, and the kernel refuses the open too (ptrace access rules).
/// </summary>
internal static class SharedPathPolicy
{
    public static string? Refusal(string path, string root)
    {
        if (path.StartsWith("/proc/", StringComparison.Ordinal)) return DescriptorRefusal(path, root);
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

    /// <summary>The descriptor form: /proc/PID/fd/N of a process of this user, holding a memfd or a file in the shared-memory folder.</summary>
    private static string? DescriptorRefusal(string path, string root)
    {
        var parts = path.Split('/');
        // "", "proc", PID, "fd", N
        if (parts.Length != 5 || parts[3] != "fd" || !IsDecimal(parts[2]) || !IsDecimal(parts[4]))
            return "is not a descriptor path (/proc/PID/fd/N)";
        var owner = EffectiveUid($"/proc/{parts[2]}/status");
        var self = EffectiveUid("/proc/self/status");
        if (owner is null || self is null) return "names no live process";
        if (owner != self) return $"belongs to a process of another user (uid {owner})";
        string? target;
        try
        {
            target = new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"cannot be read ({e.Message})";
        }
        if (target is null) return "is not an open descriptor";
        // an engine's pool: a memfd, or a file it made in the shared-memory folder (any name: the C and Python APIs let
        // the engine choose it); never a file elsewhere (a home directory, /etc)
        var prefix = root.TrimEnd('/') + "/";
        if (!target.StartsWith("/memfd:", StringComparison.Ordinal) && !(target.StartsWith(prefix, StringComparison.Ordinal) && !target.Contains("/..", StringComparison.Ordinal)))
            return $"holds '{target}', which is neither a memfd nor a file in {root}";
        return null;
    }

    private static bool IsDecimal(string s) => s.Length is > 0 and <= 10 && s.All(char.IsAsciiDigit);

    /// <summary>The effective uid from a /proc status file's "Uid:" line (real, effective, saved, fs); null if unreadable.</summary>
    private static string? EffectiveUid(string statusFile)
    {
        try
        {
            foreach (var line in File.ReadLines(statusFile))
            {
                if (!line.StartsWith("Uid:", StringComparison.Ordinal)) continue;
                var fields = line[4..].Split('\t', ' ', StringSplitOptions.RemoveEmptyEntries);
                return fields.Length >= 2 ? fields[1] : null;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }
}
