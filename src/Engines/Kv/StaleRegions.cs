using System.Globalization;
using PdRdma.Transport;

namespace PdRdma.Engines.Kv;

/// <summary>
/// Removes the shared-memory files (pdrdma.&lt;pid&gt;.&lt;name&gt; in /dev/shm) that engines killed by SIGKILL left
/// behind: a process that dies that way cannot unlink its pool, so the next engine to start does it. Only files
/// whose owning process no longer exists are removed; a live process's files are never touched.
/// </summary>
public static class StaleRegions
{
    /// <summary>Deletes the region files of dead processes in <paramref name="directory"/> (default: HostRegion's); returns how many.</summary>
    public static int Sweep(string? directory = null)
    {
        directory ??= HostRegion.DefaultDirectory;
        if (!Directory.Exists("/proc/self") || !Directory.Exists(directory)) return 0;
        var removed = 0;
        IEnumerable<string> files;
        try
        {
            files = Directory.EnumerateFiles(directory, "pdrdma.*").ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
        foreach (var file in files)
        {
            var parts = Path.GetFileName(file).Split('.', 3);
            if (parts.Length < 3 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 0) continue;
            if (Directory.Exists($"/proc/{pid}")) continue;
            try
            {
                File.Delete(file);
                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // another user's file, or removed meanwhile: not ours to force
            }
        }
        return removed;
    }
}
