using PdRdma.Daemon;
using PdRdma.Hosting.Processes;

namespace PdRdma.Tests.Daemon;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DaemonOptionsValidatorTests
{
    private static DaemonOptions Valid(string folder) => new()
    {
        NodeId = "node-a",
        Socket = Path.Combine(folder, "d.sock"),
        SocketGroup = "",
        ClusterSecretFile = TestPaths.SecretFile(folder),
    };

    [Fact]
    public void AValidConfigurationPasses()
    {
        var result = new DaemonOptionsValidator().Validate(null, Valid(TestPaths.Scratch("valid")));
        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Theory]
    [InlineData("NodeId", "has space", "Daemon:NodeId")]
    [InlineData("Socket", "relative.sock", "must be an absolute path")]
    [InlineData("SocketGroup", "pdd-no-such-group", "groupadd --system pdd-no-such-group")]
    [InlineData("PeerListen", "nowhere", "is not address:port")]
    [InlineData("HttpListen", "localhost", "Daemon:HttpListen")]
    [InlineData("Backend", "carrier-pigeon", "use one of auto, shm, tcp, verbs")]
    [InlineData("ClusterSecretFile", "/nonexistent/pdd.key", "head -c 32 /dev/urandom")]
    public void EachBadSettingIsNamedWithWhatToChange(string property, string value, string expected)
    {
        var options = Valid(TestPaths.Scratch("bad"));
        typeof(DaemonOptions).GetProperty(property)!.SetValue(options, value);
        var result = new DaemonOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage);
    }

    [Fact]
    public void AWorldReadableSecretIsRefused()
    {
        var options = Valid(TestPaths.Scratch("perm"));
        File.SetUnixFileMode(options.ClusterSecretFile!, UnixFileMode.UserRead | UnixFileMode.OtherRead);
        var result = new DaemonOptionsValidator().Validate(null, options);
        Assert.Contains("readable by every user", result.FailureMessage);
    }

    [Fact]
    public void AMissingSecretSaysHowToMakeOne()
    {
        var options = Valid(TestPaths.Scratch("nosecret"));
        options.ClusterSecretFile = null;
        var result = new DaemonOptionsValidator().Validate(null, options);
        Assert.Contains("no cluster secret", result.FailureMessage);
    }

    [Fact]
    public async Task TheDaemonRefusesToStartAndListsEveryProblem()
    {
        var folder = TestPaths.Scratch("cli");
        var config = Path.Combine(folder, "pdrdmad.json");
        await File.WriteAllTextAsync(config, """{ "Daemon": { "NodeId": "node a", "Socket": "d.sock", "SocketGroup": "" } }""");
        var (code, output) = await TestPaths.RunCliAsync(TimeSpan.FromSeconds(60), "daemon", "--config", config, "--peer-listen", "bad");
        Assert.Equal(2, code);
        Assert.Contains("invalid configuration", output);
        Assert.Contains("Daemon:NodeId", output);
        Assert.Contains("Daemon:Socket 'd.sock'", output);
        Assert.Contains("Daemon:PeerListen 'bad'", output);
        Assert.Contains("no cluster secret", output);
    }

    [Fact]
    public async Task EnvironmentOverridesTheFileAndTheCommandLineOverridesBoth()
    {
        var folder = TestPaths.Scratch("layers");
        var config = Path.Combine(folder, "pdrdmad.json");
        await File.WriteAllTextAsync(config, """{ "Daemon": { "NodeId": "from-file", "Backend": "from-file" } }""");
        var info = PdrdmaProgram.Cli.StartInfo("daemon", "--config", config, "--socket", "rel");
        info.RedirectStandardError = info.RedirectStandardOutput = true;
        info.Environment["PDRDMA_Daemon__Backend"] = "from-env";
        using var process = System.Diagnostics.Process.Start(info)!;
        var output = await process.StandardError.ReadToEndAsync() + await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        Assert.Contains("Daemon:Backend 'from-env'", output);
        Assert.Contains("Daemon:Socket 'rel'", output);
    }
}
