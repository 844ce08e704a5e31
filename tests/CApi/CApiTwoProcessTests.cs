using System.Text.RegularExpressions;
using PdRdma.Tests.Daemon;
using PdRdma.Transport;

namespace PdRdma.Tests.CApi;

/// <summary>
/// libpdrdma.so from C: tests/CApi/native/pdrdma_two_process.c is compiled with the system compiler (-std=c99 -Wall
/// -Werror) and run as two processes, target and initiator. 64 MiB of scattered 64 KiB blocks must arrive bit-identical
/// with their notification; then every bad input must return its status and leave the target's bytes unchanged (the
/// program checks each and exits 1 on any miss).
/// </summary>
[Collection("libpdrdma")]
public sealed class CApiTwoProcessTests
{
    private static readonly Lazy<string> Program = new(Compile, LazyThreadSafetyMode.ExecutionAndPublication);

    [CCompiledFact]
    public void Shm_ScatteredBlocksArriveIdenticalAndBadInputsChangeNothing() => RunPair("shm");

    [CCompiledFact]
    public void Tcp_ScatteredBlocksArriveIdenticalAndBadInputsChangeNothing() => RunPair("tcp");

    [Fact]
    public void Header_StatusCodesAreTransferErrorCodesOneToOne()
    {
        var header = File.ReadAllText(Path.Combine(LibPdrdma.Include, "pdrdma.h"));
        var codes = Regex.Matches(header, @"PDRDMA_E_([A-Z_]+) = (\d+)")
            .ToDictionary(m => m.Groups[1].Value.Replace("_", ""), m => int.Parse(m.Groups[2].Value), StringComparer.OrdinalIgnoreCase);
        var values = Enum.GetValues<TransferErrorCode>();
        Assert.Equal(values.Length, codes.Count);
        foreach (var code in values) Assert.Equal((int)code, codes[code.ToString()]);
        Assert.Matches(@"#define PDRDMA_ABI_VERSION \d+", header);
    }

    private static void RunPair(string backend)
    {
        var exe = Program.Value;
        var folder = TestPaths.Scratch("capi-" + backend);
        var secret = TestPaths.SecretFile(folder);
        var bad = TestPaths.SecretFile(Directory.CreateDirectory(Path.Combine(folder, "other")).FullName);
        var address = Path.Combine(folder, "target.addr");
        var target = Task.Run(() => LibPdrdma.Run(exe, ["target", backend, secret, address], folder, TimeSpan.FromMinutes(4)));
        var initiator = LibPdrdma.Run(exe, ["initiator", backend, secret, bad, address], folder, TimeSpan.FromMinutes(4));
        var targetResult = target.GetAwaiter().GetResult();
        Assert.True(initiator.Code == 0 && targetResult.Code == 0,
            $"initiator exit {initiator.Code}:\n{initiator.Output}\ntarget exit {targetResult.Code}:\n{targetResult.Output}");
        Assert.Contains("ok 64 MiB of 1024 scattered blocks bit-identical", targetResult.Output);
        Assert.Contains("ok target bytes unchanged after the bad inputs", targetResult.Output);
        Assert.Contains("-> OutOfBounds", initiator.Output);
        Assert.Contains("-> UnknownRegion", initiator.Output);
        Assert.Contains("-> Unauthenticated", initiator.Output);
    }

    private static string Compile()
    {
        var library = LibPdrdma.Library;
        var output = Path.Combine(TestPaths.Scratch("capi-bin"), "pdrdma_two_process");
        var source = Path.Combine(LibPdrdma.Root, "tests", "CApi", "native", "pdrdma_two_process.c");
        var (code, log) = LibPdrdma.Run(CCompiledFactAttribute.FindCc()!, ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-I", LibPdrdma.Include, source,
            "-L", Path.GetDirectoryName(library)!, "-lpdrdma", "-Wl,-rpath," + Path.GetDirectoryName(library), "-o", output], LibPdrdma.Root, TimeSpan.FromMinutes(2));
        Assert.True(code == 0, $"cc failed:\n{log}");
        return output;
    }
}
