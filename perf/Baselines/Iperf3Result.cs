namespace PdRdma.Perf.Baselines;

/// <summary>What one iperf3 client run measured: the receiver's rate is the one that counts (bytes that arrived).</summary>
public sealed record Iperf3Result(double ReceivedBitsPerSecond, double SentBitsPerSecond, long Bytes, double Seconds, int? Retransmits, int? BlockBytes)
{
    public double ReceivedGbps => ReceivedBitsPerSecond / 1e9;
}
