using System.Globalization;

namespace PdRdma.Perf.Transfer;

/// <summary>
/// What the initiator of a transfer benchmark measures, and the region both ends need for it. Passed to the
/// initiator process on its command line (<see cref="ToArgs"/> / <see cref="TransferPlanOptions"/>).
/// </summary>
public sealed record TransferPlan
{
    /// <summary>Message sizes for the bandwidth/latency sweep (each written as batches of one write).</summary>
    public IReadOnlyList<long> Sizes { get; init; } = [];

    /// <summary>Latency (queue depth 1) is measured for sizes up to this; beyond it latency is size over bandwidth.</summary>
    public long LatencyMaxBytes { get; init; } = 4 << 20;

    /// <summary>Write size of the batch-size sweep, and the writes per batch to try.</summary>
    public long BatchWriteBytes { get; init; }
    public IReadOnlyList<int> BatchOps { get; init; } = [];

    /// <summary>KV-shaped: block sizes, each written as <see cref="KvTotalBytes"/> / block non-contiguous blocks in one batch.</summary>
    public IReadOnlyList<long> KvBlockBytes { get; init; } = [];
    public long KvTotalBytes { get; init; }

    /// <summary>Time spent per measured point (at least a few iterations run whatever the budget).</summary>
    public TimeSpan Budget { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Batches kept in flight in bandwidth runs.</summary>
    public int Depth { get; init; } = 16;

    /// <summary>Authenticate tcp data chunks (the default); false only to measure what the MAC costs.</summary>
    public bool DataMac { get; init; } = true;

    /// <summary>Every batch names the target's grant (<see cref="BenchGrant"/>): grant windows where the backend has them.</summary>
    public bool Grant { get; init; }

    /// <summary>Bytes of the source region (initiator) and the target region: enough for every write of the plan.</summary>
    public long RegionBytes
    {
        get
        {
            long need = 1 << 20;
            foreach (var size in Sizes) need = Math.Max(need, size);
            foreach (var ops in BatchOps) need = Math.Max(need, 2L * ops * BatchWriteBytes);
            if (KvBlockBytes.Count > 0) need = Math.Max(need, 2 * KvTotalBytes);
            return (need + 4095) / 4096 * 4096;
        }
    }

    /// <summary>Powers of four from 64 B to <paramref name="max"/>, the sizes ib_write_bw -a would pick every other of.</summary>
    public static IReadOnlyList<long> SizesUpTo(long max, long min = 64)
    {
        var sizes = new List<long>();
        for (var s = min; s <= max; s *= 4) sizes.Add(s);
        if (sizes.Count == 0 || sizes[^1] != max) sizes.Add(max);
        return sizes;
    }

    /// <summary>The plan as the initiator's command line (<see cref="TransferPlanOptions"/> reads it back); empty lists are left out.</summary>
    public string[] ToArgs()
    {
        var args = new List<string>();
        if (Sizes.Count > 0) args.AddRange(["--sizes", Join(Sizes)]);
        if (BatchOps.Count > 0) args.AddRange(["--batch-ops", string.Join(',', BatchOps.Select(o => o.ToString(CultureInfo.InvariantCulture)))]);
        if (KvBlockBytes.Count > 0) args.AddRange(["--kv-blocks", Join(KvBlockBytes)]);
        args.AddRange(["--latency-max", Str(LatencyMaxBytes), "--batch-bytes", Str(BatchWriteBytes), "--kv-total", Str(KvTotalBytes),
            "--budget-ms", Str((long)Budget.TotalMilliseconds), "--depth", Str(Depth), "--data-mac", DataMac ? "1" : "0"]);
        if (Grant) args.AddRange(["--grant", "1"]);
        return [.. args];
    }

    private static string Join(IEnumerable<long> values) => string.Join(',', values.Select(Str));

    private static string Str(long value) => value.ToString(CultureInfo.InvariantCulture);
}
