namespace PdRdma.Tests.Gpu;

/// <summary>The libtorch 2.10 and libLibTorchSharp.so of the TorchSharp packages this build runs (from the runtime's native search folders).</summary>
internal static class NativeTorchFiles
{
    public static string LibTorchDir { get; } = Find("libtorch_cpu.so");

    public static string LibTorchSharp { get; } = Path.Combine(Find("libLibTorchSharp.so"), "libLibTorchSharp.so");

    public static string RepoRoot => PdRdma.Tests.Engines.TestModels.RepoRoot;

    /// <summary>
    /// The libtorch symbols libLibTorchSharp.so needs, computed with binutils' nm exactly as scripts/gpu-bundle.sh does,
    /// written to <paramref name="path"/>.
    /// </summary>
    public static void WriteSymbolList(string path)
    {
        var script = $$"""
            set -euo pipefail
            nm -D --undefined-only '{{LibTorchSharp}}' | awk '{print $NF}' | sed 's/@.*//' | sort -u > '{{path}}.und'
            for lib in libc10.so libtorch_cpu.so libtorch.so; do nm -D --defined-only '{{LibTorchDir}}'/$lib | awk '{print $NF}' | sed 's/@.*//'; done | sort -u > '{{path}}.def'
            comm -12 '{{path}}.und' '{{path}}.def' > '{{path}}'
            """;
        var (code, _, err) = ScriptProcess.Run("bash", ["-c", script], TimeSpan.FromMinutes(2));
        if (code != 0) throw new InvalidOperationException($"nm pipeline failed: {err}");
    }

    private static string Find(string file)
    {
        var dirs = (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") as string ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return dirs.Prepend(AppContext.BaseDirectory).FirstOrDefault(d => File.Exists(Path.Combine(d, file)))
            ?? throw new FileNotFoundException($"{file} is in none of the runtime's native search folders");
    }
}
