using System.Text.RegularExpressions;
using System.Xml.Linq;
using PdRdma.Hosting.Processes;

namespace PdRdma.Tests.Architecture;

/// <summary>
/// Keeps docs/architecture.md true: every project references, and names in its C# files, only the layers the table
/// there allows; nothing references the CLI; LibraryImport stays in interop/ and unsafe code in the projects that
/// hold raw memory. Reads the checkout's project files and sources as text.
/// </summary>
public sealed partial class LayeringTests
{
    /// <summary>Project folder (from the checkout's root) → its layer.</summary>
    private static readonly Dictionary<string, string> Layers = new(StringComparer.Ordinal)
    {
        ["interop"] = "Interop",
        ["src/Transport"] = "Transport",
        ["src/Daemon"] = "Daemon",
        ["src/Engines"] = "Engines",
        ["src/Native"] = "Native",
        ["src/Hosting"] = "Hosting",
        ["src/Cli"] = "Cli",
        ["perf"] = "Perf",
        ["tests"] = "Tests",
    };

    /// <summary>What each layer may use (the table of docs/architecture.md).</summary>
    private static readonly Dictionary<string, string[]> MayUse = new(StringComparer.Ordinal)
    {
        ["Interop"] = [],
        ["Transport"] = ["Interop"],
        ["Daemon"] = ["Transport", "Interop"],
        ["Engines"] = ["Daemon", "Transport", "Interop"],
        ["Native"] = ["Daemon", "Transport", "Interop"],
        ["Hosting"] = ["Transport"],
        ["Cli"] = ["Engines", "Daemon", "Transport", "Hosting"],
        ["Perf"] = ["Engines", "Transport", "Hosting"],
        ["Tests"] = ["Interop", "Transport", "Daemon", "Engines", "Native", "Hosting", "Perf"],
    };

    /// <summary>Projects that may hold unsafe code: raw memory is their job.</summary>
    private static readonly string[] Unsafe = ["Interop", "Transport", "Native"];

    private static string Root => RepoRoot.Find() ?? throw new InvalidOperationException("no checkout (PdRdma.sln) above the tests");

    [Fact]
    public void EveryProjectIsOnTheMap()
    {
        var projects = Directory.EnumerateFiles(Root, "*.csproj", SearchOption.AllDirectories)
            .Where(p => !IsBuildOutput(p) && !p.Contains($"{Path.DirectorySeparatorChar}.pdrdma{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(p => Relative(Path.GetDirectoryName(p)!)).ToList();
        Assert.NotEmpty(projects);
        Assert.All(projects, p => Assert.True(Layers.ContainsKey(p), $"{p}: a project docs/architecture.md does not place"));
    }

    [Fact]
    public void ProjectReferencesPointDown()
    {
        var failures = new List<string>();
        foreach (var (folder, layer) in Layers)
        {
            var csproj = Directory.EnumerateFiles(Path.Combine(Root, folder), "*.csproj").Single();
            foreach (var include in XDocument.Load(csproj).Descendants("ProjectReference").Select(r => (string?)r.Attribute("Include") ?? ""))
            {
                var target = Relative(Path.GetDirectoryName(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(csproj)!, include)))!);
                if (!Layers.TryGetValue(target, out var used)) failures.Add($"{folder}: references {include}, which is on no layer");
                else if (!MayUse[layer].Contains(used)) failures.Add($"{folder} ({layer}) references {target} ({used}); {layer} may use {string.Join(", ", MayUse[layer])}");
            }
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public void SourcesNameOnlyTheLayersBelow()
    {
        var failures = new List<string>();
        foreach (var (folder, layer) in Layers)
        {
            foreach (var file in Sources(folder))
            {
                foreach (var (line, number) in CodeLines(file))
                {
                    foreach (Match m in LayerName().Matches(line))
                    {
                        var used = m.Groups[1].Value;
                        if (used == layer || !MayUse.ContainsKey(used) || MayUse[layer].Contains(used)) continue;
                        failures.Add($"{Relative(file)}:{number}: {layer} uses PdRdma.{used}");
                    }
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures.Take(50)));
    }

    [Fact]
    public void NativeCallsAndUnsafeCodeStayWhereRawMemoryIs()
    {
        var failures = new List<string>();
        foreach (var (folder, layer) in Layers)
        {
            var csproj = File.ReadAllText(Directory.EnumerateFiles(Path.Combine(Root, folder), "*.csproj").Single());
            var allowsUnsafe = csproj.Contains("<AllowUnsafeBlocks>true</AllowUnsafeBlocks>", StringComparison.Ordinal);
            if (allowsUnsafe && !Unsafe.Contains(layer)) failures.Add($"{folder}: AllowUnsafeBlocks in a {layer} project");
            foreach (var file in Sources(folder))
            {
                foreach (var (line, number) in CodeLines(file))
                {
                    if (layer != "Interop" && (line.StartsWith("[LibraryImport", StringComparison.Ordinal) || line.StartsWith("[DllImport", StringComparison.Ordinal)))
                        failures.Add($"{Relative(file)}:{number}: native import outside interop/");
                    if (!Unsafe.Contains(layer) && UnsafeKeyword().IsMatch(line)) failures.Add($"{Relative(file)}:{number}: unsafe code in {layer}");
                }
            }
        }
        var shared = File.ReadAllText(Path.Combine(Root, "Directory.Build.props"));
        if (shared.Contains("<AllowUnsafeBlocks>true</AllowUnsafeBlocks>", StringComparison.Ordinal)) failures.Add("Directory.Build.props allows unsafe code in every project");
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public void TheMapIsWhatTheDocumentSays()
    {
        var doc = File.ReadAllText(Path.Combine(Root, "docs", "architecture.md"));
        foreach (var (folder, layer) in Layers)
        {
            Assert.Contains($"`{folder}", doc, StringComparison.Ordinal);
            var row = doc.Split('\n').FirstOrDefault(l => l.StartsWith($"| {layer} |", StringComparison.Ordinal));
            Assert.True(row is not null, $"docs/architecture.md has no row for {layer}");
            var mayUse = row!.Split('|')[3].Trim();
            var listed = mayUse == "—" ? [] : mayUse.Replace("everything but Cli", "Interop, Transport, Daemon, Engines, Native, Hosting, Perf", StringComparison.Ordinal)
                .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(MayUse[layer].Order(), listed.Order());
        }
    }

    private static IEnumerable<string> Sources(string folder) =>
        Directory.EnumerateFiles(Path.Combine(Root, folder), "*.cs", SearchOption.AllDirectories).Where(f => !IsBuildOutput(f));

    /// <summary>Lines of code with comments removed (so a cref or a remark naming another layer is not a use).</summary>
    private static IEnumerable<(string Line, int Number)> CodeLines(string file)
    {
        var number = 0;
        foreach (var raw in File.ReadLines(file))
        {
            number++;
            var line = raw.TrimStart();
            if (line.StartsWith("//", StringComparison.Ordinal) || line.StartsWith('*')) continue;
            var comment = line.IndexOf("//", StringComparison.Ordinal);
            yield return (comment >= 0 && !line[..comment].Contains('"') ? line[..comment] : line, number);
        }
    }

    private static bool IsBuildOutput(string path) =>
        path.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj" or "node_modules");

    private static string Relative(string path) => Path.GetRelativePath(Root, path).Replace(Path.DirectorySeparatorChar, '/');

    [GeneratedRegex(@"\bPdRdma\.(Interop|Transport|Daemon|Engines|Native|Hosting|Cli|Perf)\b")]
    private static partial Regex LayerName();

    [GeneratedRegex(@"\bunsafe\s+(static|void|bool|int|long|byte|struct|class|partial|fixed|override|private|public|internal|protected|\{)|\bfixed\s*\(|\bstackalloc\b.*\*")]
    private static partial Regex UnsafeKeyword();
}
