using PdRdma.Perf.Reporting;
using PdRdma.Perf.Results;

namespace PdRdma.Tests.Perf;

public sealed class MarkdownReportWriterTests
{
    private static BenchRun SampleRun()
    {
        var run = new BenchRun
        {
            StartedAt = new DateTimeOffset(2026, 11, 27, 7, 0, 0, TimeSpan.Zero),
            Duration = TimeSpan.FromMinutes(9.5),
            Machine = new MachineInfo { CpuModel = "Test CPU", Cores = 2, Kernel = "6.1.0-test", MemoryBytes = 24L << 30, Runtime = ".NET 10", Os = "Debian 12" },
        };
        run.Transfer.Add(new TransferPoint { Backend = "shm", Path = "one-host", Bytes = 1 << 20, Gbps = 40, Baseline = "memcpy", BaselineGbps = 50, LatencyP50Us = 120.5 });
        run.Transfer.Add(new TransferPoint { Backend = "tcp", Path = "two-hosts", Bytes = 256 << 20, Gbps = 9, Baseline = "iperf3", BaselineGbps = 12 });
        run.E2e.Add(new E2ePoint
        {
            PromptLen = 4096, Model = "random", Backend = "shm", Overlap = true, TtftMsColocated = 1000, TtftMsDisagg = 1050,
            TpotMsColocated = 10, TpotMsDisagg = 10.1, TransferShare = 0.02, KvBytes = 256L << 20,
        });
        run.Notes.Add("verbs: no VM harness here");
        run.Targets.AddRange(TargetEvaluator.Evaluate(run));
        return run;
    }

    [Fact]
    public void WritesTheTransferTableAsMarkdownRows()
    {
        var markdown = MarkdownReportWriter.Render(SampleRun(), ["bench/transfer-bandwidth.png"]);
        var lines = markdown.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        var header = Array.FindIndex(lines, l => l.StartsWith("| backend | path | size |", StringComparison.Ordinal));
        Assert.True(header >= 0, markdown);
        Assert.StartsWith("| --- |", lines[header + 1]);
        Assert.Equal("| shm | one-host | 1 MiB | 1 | 40.0 | memcpy | 50.0 | 0.800 | 120 | - |", lines[header + 2]);
        Assert.Contains("| tcp | two-hosts | 256 MiB | 1 | 9.00 | iperf3 | 12.0 | 0.750 |", markdown);
        Assert.Contains("![transfer-bandwidth](bench/transfer-bandwidth.png)", markdown);
        Assert.Contains("Test CPU, 2 cores", markdown);
        Assert.Contains("kernel 6.1.0-test", markdown);
        Assert.Contains("- verbs: no VM harness here", markdown);
        Assert.Contains("## Between two real hosts with RDMA NICs", markdown);
    }

    [Fact]
    public void HoldsTheRunAgainstTheTargets()
    {
        var run = SampleRun();
        var shm = run.Targets.Single(t => t.Name == "shm bandwidth");
        Assert.Equal(0.8, shm.Measured);
        Assert.True(shm.Met);
        var tcp = run.Targets.Single(t => t.Name == "tcp bandwidth");
        Assert.False(tcp.Met);
        Assert.Null(run.Targets.Single(t => t.Name == "verbs bandwidth").Met);
        Assert.True(run.Targets.Single(t => t.Name == "TTFT shm").Met);
        Assert.True(run.Targets.Single(t => t.Name == "TPOT shm").Met);

        var markdown = MarkdownReportWriter.Render(run, []);
        Assert.Contains("| tcp bandwidth | tcp ≥ 0.9 × iperf3 (same path) | 0.750 | 256 MiB, two-hosts | MISSED |", markdown);
        Assert.Contains("| verbs bandwidth |", markdown);
        Assert.Contains("not measured", markdown);
    }

    [Fact]
    public void TerminalTablesAlignNumbersRight()
    {
        var table = new TextTable("name", "value").Add("a", "1.5").Add("bbb", "12.25");
        var lines = table.ToTerminal().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("name  value", lines[0]);
        Assert.Equal("a       1.5", lines[2]);
        Assert.Equal("bbb   12.25", lines[3]);
    }
}
