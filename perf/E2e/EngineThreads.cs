namespace PdRdma.Perf.E2e;

/// <summary>
/// Intra-op threads of every engine process in the end-to-end benchmark: 1 unless PDRDMA_BENCH_THREADS says otherwise.
/// On a small shared machine two threads per process made every operator wait on a descheduled peer thread (a 260K
/// model decoded at 130 ms per token instead of 2 ms); one thread per engine is steady, and equal for the colocated
/// engine, the prefill engine and the decode engine, so their TTFT and TPOT compare like for like.
/// </summary>
public static class EngineThreads
{
    public static int Count =>
        int.TryParse(Environment.GetEnvironmentVariable("PDRDMA_BENCH_THREADS"), System.Globalization.NumberStyles.Integer,
            System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 1;

    /// <summary>Applies the count to this process's torch; children inherit the variable.</summary>
    public static void Apply()
    {
        Environment.SetEnvironmentVariable("PDRDMA_BENCH_THREADS", Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        TorchSharp.torch.set_num_threads(Count);
    }
}
