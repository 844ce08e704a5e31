using System.Globalization;
using System.Text.Json;
using PdRdma.Hosting.Processes;
using PdRdma.Engines.Kv;
using PdRdma.Engines.Loading;
using PdRdma.Engines.Model;
using PdRdma.Tests.Engines;

namespace PdRdma.Tests.Gpu;

/// <summary>
/// scripts/gpu/torch_llama_ref.py, the PyTorch side of the GPU check, run here with its numpy backend (the same
/// forward in float32; torch is not installable on this host at a sane size): its weight reading, prompts and math
/// against this engine on the CPU, and its handling of bad weight files.
/// </summary>
public sealed class TorchReferenceScriptTests
{
    private static string Script => Path.Combine(TestModels.RepoRoot, "scripts", "gpu", "torch_llama_ref.py");

    private static (int Code, string Stdout, string Stderr) Reference(params string[] args) =>
        ScriptProcess.Run(ScriptProcess.Python!, [Script, "--backend", "numpy", "--dtype", "f32", "--repeats", "1", .. args], TimeSpan.FromMinutes(3));

    private static int[] Tokens(string json) => JsonDocument.Parse(json).RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray();

    [PythonNumpyFact]
    public async Task GreedyTokensOfStories260KMatchTheEngine()
    {
        var (code, stdout, stderr) = Reference("--weights", TestModels.Stories260K, "--prompt-len", "40", "--decode-steps", "24", "--batches", "1,3");
        Assert.True(code == 0, stderr);
        var (exit, json, errors) = await PdrdmaProgram.Cli.RunAsync(TimeSpan.FromMinutes(3), "engine-check", "--model", TestModels.Stories260K,
            "--prompt-len", "40", "--decode-steps", "24", "--batches", "1,3", "--repeats", "1");
        Assert.True(exit == 0, errors);
        var expected = Tokens(json[json.IndexOf('{')..]);
        Assert.Equal(24, expected.Length);
        Assert.True(expected.Distinct().Count() > 5, "stories260K should not repeat one token");
        Assert.Equal(expected, Tokens(stdout));
    }

    [PythonNumpyFact]
    public void PrefillLogitsOfAnExportedTinyRandomMatchTheEngine()
    {
        // model-export's file is what the reference reads on the GPU host; the engine runs the spec itself.
        const string spec = "tiny-random:dim=96,layers=3,heads=6,kv_heads=2,hidden=200,vocab=300,seq=96,seed=11";
        var dir = TestModels.NewTempDir();
        var weights = Path.Combine(dir, "random.bin");
        var logitsFile = Path.Combine(dir, "logits.json");
        using var model = ModelSource.Load(spec);
        Llama2cCheckpoint.Write(model, weights);

        var (code, _, stderr) = Reference("--weights", weights, "--prompt-len", "33", "--decode-steps", "4", "--batches", "1", "--logits-out", logitsFile);
        Assert.True(code == 0, stderr);
        var theirs = JsonSerializer.Deserialize<float[]>(File.ReadAllText(logitsFile))!;

        var prompt = Enumerable.Range(0, 33).Select(i => PdRdma.Engines.Generation.CheckPrompts.Token(0, i, model.Config.VocabSize)).ToArray();
        using var pool = KvPool.Create(model.Config.KvLayout(16, 4), $"ref-{Guid.NewGuid():N}"[..20]);
        var table = new BlockTable(16);
        table.EnsureCapacity(prompt.Length, pool.Allocator);
        using var logits = model.Model.Forward([new ForwardItem(prompt, 0, table)], pool);
        var ours = logits.data<float>().ToArray();

        Assert.Equal(ours.Length, theirs.Length);
        double worst = ours.Zip(theirs, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst < 1e-3, $"largest logit difference {worst.ToString(CultureInfo.InvariantCulture)}");
        Assert.Equal(PdRdma.Engines.Sampling.Sampler.ArgMax(ours), PdRdma.Engines.Sampling.Sampler.ArgMax(theirs));
    }

    [PythonNumpyFact]
    public void ATruncatedWeightFileIsAnErrorNamingWhere()
    {
        var path = Path.Combine(TestModels.NewTempDir(), "cut.bin");
        var bytes = File.ReadAllBytes(TestModels.Stories260K);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var (code, _, stderr) = Reference("--weights", path, "--prompt-len", "8", "--decode-steps", "4", "--batches", "1");
        Assert.Equal(1, code);
        Assert.Contains("truncated", stderr);
    }

    [PythonNumpyFact]
    public void ANonsenseHeaderIsAnError()
    {
        var path = Path.Combine(TestModels.NewTempDir(), "bad.bin");
        var header = new byte[28 + 64];
        BitConverter.TryWriteBytes(header.AsSpan(0), 64);
        BitConverter.TryWriteBytes(header.AsSpan(4), -5);  // hidden_dim
        File.WriteAllBytes(path, header);
        var (code, _, stderr) = Reference("--weights", path, "--prompt-len", "8", "--decode-steps", "4", "--batches", "1");
        Assert.Equal(1, code);
        Assert.Contains("hidden_dim", stderr);
    }

    [PythonNumpyFact]
    public void OutOfRangeArgumentsAreRefused()
    {
        foreach (var args in new[] { new[] { "--batches", "1,x" }, ["--batches", "0"], ["--prompt-len", "0"], ["--decode-steps", "1"] })
        {
            var (code, _, stderr) = Reference(["--weights", TestModels.Stories260K, .. args]);
            Assert.True(code == 2, $"{string.Join(' ', args)}: {stderr}");
        }
    }
}
