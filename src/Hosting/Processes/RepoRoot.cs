namespace PdRdma.Hosting.Processes;

/// <summary>The checkout this program runs from (the folder holding PdRdma.sln), if any.</summary>
public static class RepoRoot
{
    /// <summary>The first folder holding PdRdma.sln above the running assembly, then above the working directory; null when neither is in a checkout.</summary>
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
