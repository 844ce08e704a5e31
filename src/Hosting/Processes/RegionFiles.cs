namespace PdRdma.Hosting.Processes;

/// <summary>
/// Host-region files (pdrdma.PID.* under <see cref="Transport.HostRegion.DefaultDirectory"/>) that a process killed
/// by SIGKILL leaves behind. Unlinking never disturbs a mapping another process still holds.
/// </summary>
public static class RegionFiles
{
    /// <summary>Removes the region files of process <paramref name="pid"/> (which has exited).</summary>
    public static void RemoveOf(int pid)
    {
        try
        {
            foreach (var file in Directory.EnumerateFiles(Transport.HostRegion.DefaultDirectory, $"pdrdma.{pid}.*")) TryDelete(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>
    /// Removes transfer-command region files (kv, src, memcpy-src, memcpy-dst) whose process no longer exists.
    /// </summary>
    public static void RemoveStale()
    {
        foreach (var file in Directory.EnumerateFiles(Transport.HostRegion.DefaultDirectory, "pdrdma.*"))
        {
            var parts = Path.GetFileName(file).Split('.');
            if (parts.Length < 3 || !int.TryParse(parts[1], out var pid) || Directory.Exists($"/proc/{pid}")) continue;
            if (parts[2] is not ("kv" or "src" or "memcpy-src" or "memcpy-dst")) continue;
            TryDelete(file);
        }
    }

    private static void TryDelete(string file)
    {
        try { File.Delete(file); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
