using System.Text.Json;
using PdRdma.Tests.Engines;

namespace PdRdma.Tests.Gpu;

/// <summary>
/// scripts/gpu-engine-check.sh, the one command a GPU host runs: its plan (dry run), its refusal of bad arguments,
/// and its ABI step for real against the libtorch LibTorchSharp was built for. The GPU steps themselves run only on a
/// GPU host (docs/gpu.md); the whole script was rehearsed on the CPU with --device cpu --reference numpy.
/// </summary>
public sealed class GpuEngineCheckScriptTests
{
    private static string Script => Path.Combine(TestModels.RepoRoot, "scripts", "gpu-engine-check.sh");

    private static (int Code, string Stdout, string Stderr) Check(params string[] args) =>
        ScriptProcess.Run("bash", [Script, .. args], TimeSpan.FromMinutes(3), new Dictionary<string, string?> { ["OUT"] = null });

    [Fact]
    public void TheDryRunPlansEveryStepOfTheIssue()
    {
        var (code, stdout, stderr) = Check("--dry-run", "--bundle", "/nonexistent/bundle");
        Assert.True(code == 0, stderr);
        Assert.Contains("would run [abi]", stdout);
        Assert.Contains("check_libtorch_abi.py", stdout);
        Assert.Contains("generate --model", stdout);
        Assert.Contains("--steps 200 --temperature 0 --device cuda:0", stdout);
        Assert.Contains("--steps 200 --temperature 0 --device cpu", stdout);
        Assert.Contains("model-export --model tiny-random:dim=1024,layers=8", stdout);
        Assert.Contains("engine-check --model tiny-random:dim=1024,layers=8", stdout);
        Assert.Contains("--dtype bf16 --prompt-len 4096", stdout);
        Assert.Contains("--batches 1,8 --split", stdout);
        Assert.Contains("torch_llama_ref.py", stdout);
        Assert.Contains("--backend torch --device cuda:0 --dtype bf16 --prompt-len 4096", stdout);
        Assert.DoesNotContain("--stage-kv", stdout); // on cuda the pools are staged anyway
    }

    [Fact]
    public void TheCpuRehearsalStagesTheSplitsPoolsAsTheGpuRunDoes()
    {
        var (code, stdout, stderr) = Check("--dry-run", "--bundle", "/nonexistent/bundle", "--device", "cpu", "--dtype", "f32", "--reference", "numpy");
        Assert.True(code == 0, stderr);
        Assert.Contains("--batches 1,8 --split --stage-kv --json", stdout);
    }

    [Theory]
    [InlineData("--prompt-len", "abc")]
    [InlineData("--prompt-len", "99999999")]
    [InlineData("--decode-steps", "-3")]
    [InlineData("--device", "cuda;rm -rf /")]
    [InlineData("--device", "cuda:1234")]
    [InlineData("--model", "tiny-random:$(id)")]
    [InlineData("--model", "/etc/passwd")]
    [InlineData("--reference", "tensorflow")]
    [InlineData("--step-timeout", "0")]
    [InlineData("--frobnicate", "1")]
    [InlineData("--bundle", "")]
    public void BadArgumentsAreRefusedBeforeAnythingRuns(string option, string value)
    {
        var (code, stdout, stderr) = Check("--dry-run", option, value);
        Assert.Equal(2, code);
        Assert.Contains("gpu-engine-check:", stderr);
        Assert.DoesNotContain("would run", stdout);
    }

    [Fact]
    public void AMissingBundleIsNamed()
    {
        var (code, _, stderr) = Check("--bundle", "/nonexistent/bundle", "--torch-lib", NativeTorchFiles.LibTorchDir, "--results", TestModels.NewTempDir());
        Assert.Equal(2, code);
        Assert.Contains("/nonexistent/bundle", stderr);
        Assert.Contains("gpu-bundle.sh --engine", stderr);
    }

    /// <summary>A bundle folder holding what the ABI step reads: the real native library and the symbol list the bundle carries.</summary>
    private static string AbiBundle()
    {
        var bundle = TestModels.NewTempDir();
        File.Copy(NativeTorchFiles.LibTorchSharp, Path.Combine(bundle, "libLibTorchSharp.so"));
        File.Copy(Path.Combine(TestModels.RepoRoot, "scripts", "gpu", "check_libtorch_abi.py"), Path.Combine(bundle, "check_libtorch_abi.py"));
        NativeTorchFiles.WriteSymbolList(Path.Combine(bundle, "libtorch-symbols.txt"));
        return bundle;
    }

    [PythonNumpyFact]
    public void MissingSymbolsAreReportedAndTheRunGoesOn()
    {
        // Lazy binding: a symbol LibTorchSharp imports but never calls does not stop the engine, so the check goes on.
        var bundle = AbiBundle();
        File.AppendAllText(Path.Combine(bundle, "libtorch-symbols.txt"), "_ZN3c1021not_in_any_libtorchEv\n");
        var results = TestModels.NewTempDir();
        var (code, _, stderr) = Check("--bundle", bundle, "--torch-lib", NativeTorchFiles.LibTorchDir, "--abi-only", "--results", results, "--python", ScriptProcess.Python!);
        Assert.True(code == 0, stderr);
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(results, "gpu-engine-summary.json"))).RootElement;
        Assert.False(summary.GetProperty("ok").GetBoolean());
        Assert.Equal("partial", summary.GetProperty("steps")[1].GetProperty("status").GetString());
        var abi = JsonDocument.Parse(File.ReadAllText(Path.Combine(results, "gpu-engine-abi.json"))).RootElement;
        Assert.Equal("_ZN3c1021not_in_any_libtorchEv", abi.GetProperty("missing")[0].GetString());
    }

    [PythonNumpyFact]
    public void ALibTorchFolderThatDoesNotLoadStopsTheRun()
    {
        var results = TestModels.NewTempDir();
        var fake = TestModels.NewTempDir();
        File.WriteAllText(Path.Combine(fake, "libtorch_cpu.so"), "not an ELF file");
        var (code, _, stderr) = Check("--bundle", AbiBundle(), "--torch-lib", fake, "--abi-only", "--results", results, "--python", ScriptProcess.Python!);
        Assert.Equal(1, code);
        Assert.Contains("does not bind", stderr);
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(results, "gpu-engine-summary.json"))).RootElement;
        Assert.Equal("failed", summary.GetProperty("steps")[1].GetProperty("status").GetString());
    }

    [PythonNumpyFact]
    public void TheAbiStepPassesAgainstTheLibTorchLibTorchSharpWasBuiltFor()
    {
        var bundle = AbiBundle();
        var results = TestModels.NewTempDir();

        var (code, _, stderr) = Check("--bundle", bundle, "--torch-lib", NativeTorchFiles.LibTorchDir, "--abi-only", "--results", results, "--python", ScriptProcess.Python!);
        Assert.True(code == 0, stderr);
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(results, "gpu-engine-summary.json"))).RootElement;
        Assert.True(summary.GetProperty("ok").GetBoolean(), summary.ToString());
        Assert.Equal(["torch", "abi"], summary.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("step").GetString()));
        var abi = JsonDocument.Parse(File.ReadAllText(Path.Combine(results, "gpu-engine-abi.json"))).RootElement;
        Assert.Equal(0, abi.GetProperty("symbols_missing").GetInt32());
    }
}
