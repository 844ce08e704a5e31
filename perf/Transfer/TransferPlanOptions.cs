using System.CommandLine;
using PdRdma.Hosting.CommandLine;

namespace PdRdma.Perf.Transfer;

/// <summary>The options that carry a <see cref="TransferPlan"/> to the initiator process (<see cref="TransferPlan.ToArgs"/> writes them).</summary>
internal sealed class TransferPlanOptions
{
    private readonly Option<long[]> _sizes = CliOptions.ByteList("--sizes", "message sizes of the bandwidth/latency sweep", (a, b) => TransferPlan.SizesUpTo(b, a));
    private readonly Option<long> _latencyMax = CliOptions.Bytes("--latency-max", "latency measured up to this size", 4 << 20);
    private readonly Option<long> _batchBytes = CliOptions.Bytes("--batch-bytes", "write size of the batch-size sweep", 0);
    private readonly Option<int[]> _batchOps = CliOptions.IntList("--batch-ops", "writes per batch to try", [], 1, 1 << 20);
    private readonly Option<long[]> _kvBlocks = CliOptions.ByteList("--kv-blocks", "KV-shaped: block sizes", (a, b) => TransferPlan.SizesUpTo(b, a));
    private readonly Option<long> _kvTotal = CliOptions.Bytes("--kv-total", "KV-shaped: bytes per batch", 0);
    private readonly Option<int> _budgetMs = CliOptions.Int("--budget-ms", "milliseconds per measured point", 500, 1, 600_000);
    private readonly Option<int> _depth = CliOptions.Int("--depth", "batches in flight in bandwidth runs", 16, 1, 1024);
    private readonly Option<int> _grant = CliOptions.Int("--grant", "1: every batch names the target's grant (grant windows where the backend has them)", 0, 0, 1);
    private readonly Option<int> _dataMac = CliOptions.Int("--data-mac", "1: authenticate tcp payloads (the default), 0: only frames (to measure the cost)", 1, 0, 1);

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public TransferPlanOptions AddTo(Command command)
    {
        foreach (var option in new Option[] { _sizes, _latencyMax, _batchBytes, _batchOps, _kvBlocks, _kvTotal, _budgetMs, _depth, _dataMac, _grant }) command.Options.Add(option);
        return this;
    }

    /// <summary>The plan on the command line.</summary>
    public TransferPlan Read(ParseResult parse) => new()
    {
        Sizes = parse.GetValue(_sizes)!,
        LatencyMaxBytes = parse.GetValue(_latencyMax),
        BatchWriteBytes = parse.GetValue(_batchBytes),
        BatchOps = parse.GetValue(_batchOps)!,
        KvBlockBytes = parse.GetValue(_kvBlocks)!,
        KvTotalBytes = parse.GetValue(_kvTotal),
        Budget = TimeSpan.FromMilliseconds(parse.GetValue(_budgetMs)),
        Depth = parse.GetValue(_depth),
        DataMac = parse.GetValue(_dataMac) != 0,
        Grant = parse.GetValue(_grant) != 0,
    };
}
