namespace PdRdma.Perf.Layout;

/// <summary>What one case measured (best of the repetitions): planning, sending-side conversion, transfer, and their sum.</summary>
public sealed record LayoutPoint(string Backend, string Case, string Source, string Target, long Bytes, int WriteOps,
    double PlanMs, double StageMs, double TransferMs, double TotalMs, double Gbps, double RatioToIdentity);
