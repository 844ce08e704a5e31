namespace PdRdma.Tests.Engines;

/// <summary>Finds the models shipped in the repository (models/ beside PdRdma.sln).</summary>
internal static class TestModels
{
    // One torch thread: the test machine is small and shared, and spinning OpenMP workers slow everything down.
    static TestModels() => PdRdma.Engines.TorchThreads.Configure(1);

    public static string RepoRoot { get; } = FindRoot();

    public static string ModelsDir => Path.Combine(RepoRoot, "models");

    public static string Stories260K => Path.Combine(ModelsDir, "stories260K", "stories260K.bin");

    public static string Tok512 => Path.Combine(ModelsDir, "stories260K", "tok512.bin");

    public static string ExpectedGreedy200 => Path.Combine(ModelsDir, "stories260K", "expected-greedy-200.txt");

    public static string NewTempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "pdrdma-engines-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "PdRdma.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException($"no PdRdma.sln above {AppContext.BaseDirectory}");
    }
}
