namespace PdRdma.Tests.Perf;

/// <summary>
/// A fact that runs the transfer benchmarks for real, so it needs the transfer library's TransferAgent in the build
/// (it lands from the transport branch); skipped with that reason until it is there.
/// </summary>
public sealed class TransferAgentFactAttribute : FactAttribute
{
    public TransferAgentFactAttribute()
    {
        if (Type.GetType("PdRdma.Transport.TransferAgent, PdRdma.Transport") is null)
        {
            Skip = "needs the transfer library's TransferAgent (branch transport), which this build does not contain yet";
        }
    }
}
