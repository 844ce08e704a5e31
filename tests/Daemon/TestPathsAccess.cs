namespace PdRdma.Tests.Daemon;

/// <summary>Lets other test areas run the CLI the way the daemon tests do.</summary>
public static class TestPathsAccess
{
    public static string Scratch(string name) => TestPaths.Scratch(name);

    public static Task<(int Code, string Output)> RunCliAsync(TimeSpan timeout, string[] args) => TestPaths.RunCliAsync(timeout, args);
}
