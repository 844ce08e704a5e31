using System.Security.Cryptography;

namespace PdRdma.Perf.Transfer;

/// <summary>
/// The cluster secret of a benchmark run: made once by the process that starts the target and the initiator and
/// handed to them in the environment (never on a command line), so every benchmarked connection is authenticated
/// as a deployment's would be.
/// </summary>
public static class BenchSecret
{
    public const string Variable = "PDRDMA_BENCH_SECRET";

    public static void EnsureForChildren()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable)))
        {
            Environment.SetEnvironmentVariable(Variable, Convert.ToHexString(RandomNumberGenerator.GetBytes(32)));
        }
    }

    /// <summary>The secret the starting process set, or null when run by hand without one (or with the variable set to "none": unauthenticated, to compare).</summary>
    public static byte[]? FromEnvironment() =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } hex && hex != "none" ? Convert.FromHexString(hex) : null;
}
