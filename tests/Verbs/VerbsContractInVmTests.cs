using System.Text.RegularExpressions;

namespace PdRdma.Tests.Verbs;

/// <summary>
/// The backend contract suite (VerbsBackendContractTests) over real verbs: one Soft-RoCE VM (rxe0 loops back on the VM's
/// own address) runs `dotnet test` on this build's test assembly, filtered to that class, and every check must pass there,
/// none skipped. The VM sees this host's root read-only over 9p, so it runs the very binaries built here.
/// </summary>
[Trait("Category", "Verbs")]
public sealed partial class VerbsContractInVmTests
{
    [SoftRoceVmFact]
    public async Task OneVm_VerbsBackendContract_AllChecksPassNoneSkipped()
    {
        const string Filter = "FullyQualifiedName~PdRdma.Tests.Transport.Contract.VerbsBackendContractTests";
        string command = "export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 HOME=${HOME:-/root}; " +
            $"dotnet test tests/PdRdma.Tests.csproj -c Release --no-build --filter \"{Filter}\"";
        var run = await SoftRoceVms.RunAsync(command, null, TimeSpan.FromMinutes(10));
        string context = $"(harness exit {run.ExitCode}, output in {run.OutDir}):\n{run.Report}\n--- VM log ---\n{run.LogA}";

        var summary = Summary().Match(run.LogA);
        Assert.True(summary.Success, $"no test summary in the VM's log {context}");
        int failed = int.Parse(summary.Groups["failed"].Value), passed = int.Parse(summary.Groups["passed"].Value);
        int skipped = int.Parse(summary.Groups["skipped"].Value), total = int.Parse(summary.Groups["total"].Value);
        Assert.True(summary.Groups["verdict"].Value == "Passed" && failed == 0 && skipped == 0 && passed == total && passed >= 16,
            $"verbs contract in the VM: {summary.Value.Trim()} {context}");
        Assert.Equal(0, run.ExitCode);
    }

    [GeneratedRegex(@"(?<verdict>Passed|Failed)!\s*-\s*Failed:\s*(?<failed>\d+),\s*Passed:\s*(?<passed>\d+),\s*Skipped:\s*(?<skipped>\d+),\s*Total:\s*(?<total>\d+)")]
    private static partial Regex Summary();
}
