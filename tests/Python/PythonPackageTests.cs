using PdRdma.Tests.CApi;
using PdRdma.Tests.Daemon;

namespace PdRdma.Tests.Python;

/// <summary>
/// The Python package (python/pdrdma, ctypes over libpdrdma.so): its pytest suite (two-process numpy transfer over shm
/// and tcp, buffer kinds, bad inputs) and the engine-side connector example pushing KV through two local daemons.
/// </summary>
[Collection("libpdrdma")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PythonPackageTests
{
    [PythonFact]
    public async Task Pytest_TwoProcessNumpyTransferBufferKindsDaemonClientAndBadInputs()
    {
        var library = LibPdrdma.Library;
        var folder = TestPaths.Scratch("pytest");
        var secret = TestPaths.SecretFile(folder);
        using var prefill = await DaemonProcess.StartAsync(folder, "pytest-prefill", secret);
        using var decode = await DaemonProcess.StartAsync(folder, "pytest-decode", secret);
        var (code, output) = LibPdrdma.Run(PythonFactAttribute.Python,
            ["-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", Path.Combine(LibPdrdma.Root, "python", "tests")],
            LibPdrdma.Root, TimeSpan.FromMinutes(6), new Dictionary<string, string>
            {
                ["PDRDMA_LIBRARY"] = library,
                ["PYTHONDONTWRITEBYTECODE"] = "1",
                ["PDRDMA_TEST_PREFILL_SOCKET"] = prefill.Socket,
                ["PDRDMA_TEST_DECODE_SOCKET"] = decode.Socket,
            });
        Assert.True(code == 0, $"pytest exit {code}:\n{output}");
        Assert.Matches(@"\d+ passed", output);
        Assert.DoesNotMatch(@"\d+ (failed|skipped|error)", output);
    }

    [PythonFact]
    public async Task KvPushExample_PushesLayersThroughLocalDaemonsBitIdentical()
    {
        var library = LibPdrdma.Library;
        var folder = TestPaths.Scratch("kvpush");
        var secret = TestPaths.SecretFile(folder);
        using var prefill = await DaemonProcess.StartAsync(folder, "py-prefill", secret);
        using var decode = await DaemonProcess.StartAsync(folder, "py-decode", secret);
        var (code, output) = LibPdrdma.Run(PythonFactAttribute.Python,
            [Path.Combine(LibPdrdma.Root, "examples", "python", "kv_push.py"), "--prefill-socket", prefill.Socket, "--decode-socket", decode.Socket],
            LibPdrdma.Root, TimeSpan.FromMinutes(3), new Dictionary<string, string> { ["PDRDMA_LIBRARY"] = library, ["PYTHONDONTWRITEBYTECODE"] = "1" });
        Assert.True(code == 0, $"kv_push.py exit {code}:\n{output}\nprefill daemon:\n{prefill.Process.Tail()}\ndecode daemon:\n{decode.Process.Tail()}");
        Assert.Contains("bit-identical", output);
    }
}
