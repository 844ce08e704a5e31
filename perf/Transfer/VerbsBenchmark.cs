using PdRdma.Perf.Reporting;
using PdRdma.Perf.Results;

namespace PdRdma.Perf.Transfer;

/// <summary>
/// verbs between two Soft-RoCE VMs (the verbs branch's harness, vm/run-rdma-vms.sh): ib_write_bw / ib_write_lat and
/// our initiator and target on the same rxe devices, in the same VM boot. Where the harness or the backend is not
/// available the run says why instead of measuring.
/// </summary>
public static class VerbsBenchmark
{
    public static Task RunAsync(BenchRun run, TransferBenchOptions options, ProgressBar? progress, CancellationToken ct)
    {
        var harness = Path.Combine(RepoRoot.Find() ?? ".", "vm", "run-rdma-vms.sh");
        if (!File.Exists(harness))
        {
            run.Notes.Add("verbs: the Soft-RoCE VM harness (vm/run-rdma-vms.sh, branch verbs) is not in this tree yet");
            return Task.CompletedTask;
        }
        run.Notes.Add("verbs: the verbs backend is not in the transfer library yet; only its harness is");
        return Task.CompletedTask;
    }
}
