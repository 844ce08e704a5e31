using TorchSharp;

namespace PdRdma.Engines;

/// <summary>
/// Sets TorchSharp's intra-op thread count for this process. Small models on a shared machine run far faster on
/// one thread (OpenMP workers spin-wait when cores are oversubscribed); large models on a dedicated host want more.
/// </summary>
public static class TorchThreads
{
    /// <summary>Environment variable that overrides the count given by the caller.</summary>
    public const string Variable = "PDRDMA_TORCH_THREADS";

    public static int Configure(int threads)
    {
        if (int.TryParse(Environment.GetEnvironmentVariable(Variable), out var fromEnv) && fromEnv > 0) threads = fromEnv;
        if (threads > 0) torch.set_num_threads(threads);
        return torch.get_num_threads();
    }
}
