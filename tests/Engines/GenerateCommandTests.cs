using System.Diagnostics;

namespace PdRdma.Tests.Engines;

/// <summary>Runs the built CLI as a separate process, as a user would.</summary>
public sealed class GenerateCommandTests
{
    private static (int Code, byte[] Stdout, string Stderr) Run(params string[] args)
    {
        var psi = PdRdma.Hosting.Processes.PdrdmaProgram.Cli.StartInfo(args);
        psi.RedirectStandardOutput = psi.RedirectStandardError = true;
        using var process = Process.Start(psi)!;
        try
        {
            var stdout = new MemoryStream();
            var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(2))) throw new TimeoutException("pdrdma generate did not finish in 2 minutes");
            copy.GetAwaiter().GetResult();
            return (process.ExitCode, stdout.ToArray(), stderr.GetAwaiter().GetResult());
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GreedyTwoHundredStepsPrintsTheReferenceExactly(bool split)
    {
        var args = new List<string> { "generate", "--model", TestModels.Stories260K, "--steps", "200", "--temperature", "0" };
        if (split) args.Add("--split");
        var (code, stdout, stderr) = Run([.. args]);
        Assert.True(code == 0, stderr);
        Assert.Equal(File.ReadAllBytes(TestModels.ExpectedGreedy200), stdout);
    }

    [Theory]
    [InlineData("cuda", "DeviceUnavailable", "gpu-bundle.sh --engine")]
    [InlineData("cuda:3", "DeviceUnavailable", "PDRDMA_LIBTORCH_DIR")]
    [InlineData("tpu", "Unsupported", "cpu, cuda, cuda:N")]
    [InlineData("cuda:0;rm", "Unsupported", "cpu, cuda, cuda:N")]
    public void ADeviceThisBuildCannotUseIsATypedErrorNamingTheFix(string device, string code, string fix)
    {
        var (exit, stdout, stderr) = Run("generate", "--model", TestModels.Stories260K, "--steps", "5", "--device", device);
        // a device name that is no device at all is a usage error (2); a device this build or host lacks fails the run (1)
        Assert.Equal(code == "Unsupported" ? 2 : 1, exit);
        Assert.Empty(stdout);
        Assert.Contains(code, stderr);
        Assert.Contains(fix, stderr);
    }

    [Fact]
    public void MissingModelIsAnErrorNamingTheFile()
    {
        var (code, _, stderr) = Run("generate", "--model", "/nonexistent/model.bin", "--prompt", "hi");
        Assert.Equal(1, code);
        Assert.Contains("/nonexistent/model.bin", stderr);
    }
}
