namespace PdRdma.Perf;

/// <summary>The folder holding PdRdma.sln, found by walking up from the running assembly (or the current folder).</summary>
public static class RepoRoot
{
    public static string? Find()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "PdRdma.sln"))) return dir.FullName;
            }
        }
        return null;
    }
}
