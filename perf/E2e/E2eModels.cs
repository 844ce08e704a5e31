using PdRdma.Hosting.Processes;

namespace PdRdma.Perf.E2e;

/// <summary>Which models the end-to-end part uses, by the names on its command line.</summary>
public static class E2eModels
{
    /// <summary>The largest llama2.c checkpoint under models/ (shipped in the repository) (with its tokenizer), or null with the reason.</summary>
    public static (string? Checkpoint, string? Tokenizer, string? Problem) Largest()
    {
        var root = RepoRoot.Find();
        var models = root is null ? null : Path.Combine(root, "models");
        if (models is null || !Directory.Exists(models)) return (null, null, $"no models/ in the repository ({models ?? "repository root not found"})");
        var checkpoint = Directory.EnumerateFiles(models, "*.bin", SearchOption.AllDirectories)
            .Where(f => !Path.GetFileName(f).StartsWith("tok", StringComparison.Ordinal))
            .OrderByDescending(f => new FileInfo(f).Length)
            .FirstOrDefault();
        if (checkpoint is null) return (null, null, $"no llama2.c checkpoint (*.bin) under {models}");
        var tokenizer = Directory.EnumerateFiles(Path.GetDirectoryName(checkpoint)!, "tok*.bin").FirstOrDefault();
        return (checkpoint, tokenizer, null);
    }

    /// <summary>The engines' seeded random model spec for a shape.</summary>
    public static string RandomSpec(RandomModelShape shape) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"tiny-random:dim={shape.Dim},layers={shape.Layers},heads={shape.Heads},kv_heads={shape.KvHeads},hidden={shape.HiddenDim},vocab={shape.Vocab},seq={shape.MaxSeqLen},dtype={(shape.DType == "float32" ? "f32" : "bf16")},seed=7");
}
