using System.Text.Json;

namespace PdRdma.Tests.Gpu;

/// <summary>
/// scripts/gpu/check_libtorch_abi.py, the first thing the GPU check runs on the host's PyTorch: here against the
/// libtorch LibTorchSharp was built for (everything must bind) and against inputs that must fail by name.
/// </summary>
public sealed class LibTorchAbiCheckTests
{
    private static string Script => Path.Combine(NativeTorchFiles.RepoRoot, "scripts", "gpu", "check_libtorch_abi.py");

    private static (int Code, JsonElement Result, string Stderr) Check(string torchLib, string symbols, bool loadLibTorchSharp = true)
    {
        var args = new List<string> { Script, "--torch-lib", torchLib, "--symbols", symbols };
        if (loadLibTorchSharp) args.AddRange(["--libtorchsharp", NativeTorchFiles.LibTorchSharp]);
        var (code, stdout, stderr) = ScriptProcess.Run(ScriptProcess.Python!, args, TimeSpan.FromMinutes(2));
        return (code, JsonDocument.Parse(stdout).RootElement.Clone(), stderr);
    }

    private static string SymbolList()
    {
        var path = Path.Combine(PdRdma.Tests.Engines.TestModels.NewTempDir(), "libtorch-symbols.txt");
        NativeTorchFiles.WriteSymbolList(path);
        return path;
    }

    [PythonNumpyFact]
    public void EverySymbolBindsAgainstTheLibTorchItWasBuiltFor()
    {
        var (code, r, err) = Check(NativeTorchFiles.LibTorchDir, SymbolList());
        Assert.True(code == 0, $"{r} {err}");
        Assert.True(r.GetProperty("ok").GetBoolean());
        Assert.True(r.GetProperty("symbols_needed").GetInt32() > 1000);
        Assert.Equal(0, r.GetProperty("symbols_missing").GetInt32());
        Assert.True(r.GetProperty("libtorchsharp_loaded").GetBoolean());
        Assert.False(r.GetProperty("cuda_kernels").GetBoolean());
        Assert.True(r.GetProperty("libstdcxx").GetProperty("ok").GetBoolean());
    }

    [PythonNumpyFact]
    public void AMissingSymbolIsNamedAndLibTorchSharpIsNotLoaded()
    {
        var list = SymbolList();
        File.AppendAllText(list, "_ZN3c1021not_in_any_libtorchEv\n");
        var (code, r, _) = Check(NativeTorchFiles.LibTorchDir, list);
        Assert.Equal(3, code);
        Assert.False(r.GetProperty("ok").GetBoolean());
        Assert.Equal(1, r.GetProperty("symbols_missing").GetInt32());
        Assert.Equal("_ZN3c1021not_in_any_libtorchEv", r.GetProperty("missing")[0].GetString());
        Assert.False(r.TryGetProperty("libtorchsharp_loaded", out _));
    }

    [PythonNumpyFact]
    public void AFolderWithoutLibTorchIsReported()
    {
        var empty = PdRdma.Tests.Engines.TestModels.NewTempDir();
        var (code, r, _) = Check(empty, SymbolList());
        Assert.Equal(3, code);
        Assert.Contains("libc10.so is missing", r.GetProperty("error").GetString());
    }

    [PythonNumpyFact]
    public void AHostileSymbolListIsRefusedBeforeAnythingLoads()
    {
        var path = Path.Combine(PdRdma.Tests.Engines.TestModels.NewTempDir(), "symbols.txt");
        File.WriteAllText(path, "_ZN3c106DeviceC1Ev\n$(rm -rf /); echo owned\n");
        var (code, r, _) = Check(NativeTorchFiles.LibTorchDir, path);
        Assert.Equal(2, code);
        Assert.Contains("not a symbol name", r.GetProperty("error").GetString());
    }
}
